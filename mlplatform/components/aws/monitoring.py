"""MonitoringStack on AWS: alerting and dashboards for SageMaker endpoints and EKS training.

An SNS topic (KMS) with the spec's email and HTTPS subscriptions; five CloudWatch alarms per
watched endpoint, named `naming.Names.alarm(endpoint, metric)`; an alarm on failed training pods
in each EKS training namespace (Container Insights), one on workloads waiting too long in its Kueue
queue (Container Insights Prometheus metrics); and the platform's dashboard. It is built
before the endpoints, which name its alarms in their auto-rollback configuration. After them,
`watch_data_quality` adds a Model Monitor schedule (model_monitor.py) where the blueprint asks
for one and the promoted version has a baseline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.components.aws.cluster_observability import PENDING_METRIC, PROMETHEUS_NAMESPACE
from mlplatform.components.aws.model_endpoint import VARIANT, NetworkPlacement
from mlplatform.components.aws.model_monitor import DataQualityArgs, data_quality_monitor
from mlplatform.spec.monitoring import MonitoringStack as MonitoringSpec

# Five-minute periods a training queue may hold waiting workloads before the alarm fires.
PENDING_PERIODS = 6


@dataclass
class WatchedEndpoint:
    name: str  # spec name
    instance_type: str | None  # None: serverless (no instance CPU/memory metrics scale)
    data_capture: bool


@dataclass
class WatchedTraining:
    """An EKS TrainingCluster whose namespace's failed pods alert the topic."""

    cluster: str  # spec name
    cluster_name: pulumi.Input[str]  # the EKS cluster's name
    namespace: str
    cluster_queue: str | None = None  # its Kueue ClusterQueue; omitted: no queue alarm


@dataclass
class MonitoringArgs:
    spec: MonitoringSpec
    names: naming.Names
    tags: dict[str, str]
    account_id: str
    region: str
    kms_key_arn: pulumi.Input[str]
    registry_bucket: pulumi.Input[str]
    registry_bucket_arn: pulumi.Input[str]
    endpoints: list[WatchedEndpoint] = field(default_factory=list)
    training: list[WatchedTraining] = field(default_factory=list)
    network: NetworkPlacement | None = None
    dashboard: bool = True  # one dashboard per platform: the first aws MonitoringStack has it
    partition: str = "aws"


def vcpus(instance_type: str) -> int:
    """vCPUs of an instance size (large 2, xlarge 4, Nxlarge 4N): SageMaker reports
    CPUUtilization summed over cores, so a percent threshold is scaled by this."""
    size = instance_type.rsplit(".", 1)[-1]
    if size in ("medium", "large"):
        return 2
    match = re.fullmatch(r"(\d*)xlarge", size)
    if match:
        return 4 * int(match.group(1) or 1)
    return 1


class MonitoringStack(pulumi.ComponentResource):
    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:MonitoringStack", name, None, opts)
        spec, n, a = args.spec, args.names, args
        self.args, self._n = args, name
        child = pulumi.ResourceOptions(parent=self)
        self.opt_outs = sorted(spec.opt_out)
        for item in self.opt_outs:
            pulumi.log.warn(f"MonitoringStack '{spec.name}': secure default '{item}' is turned off (opt_out)", self)
        self.key_arn = None if "kms_encryption" in spec.opt_out else a.kms_key_arn

        self.topic = aws.sns.Topic(
            f"{name}-alerts", name=n.sns_topic(spec.name), kms_master_key_id=self.key_arn, tags=a.tags, opts=child
        )
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=self.topic.arn,
            policy=policies.document(
                {
                    "Sid": "AlarmsAndEventsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                    "Action": "sns:Publish",
                    "Resource": self.topic.arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": a.account_id}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": self.topic.arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ),
            opts=child,
        )
        for i, target in enumerate(spec.notify):
            aws.sns.TopicSubscription(
                f"{name}-notify-{i}",
                topic=self.topic.arn,
                protocol="https" if target.startswith("https://") else "email",
                # A webhook URL often carries its token: a secret, masked in plans and state.
                endpoint=pulumi.Output.secret(target) if target.startswith("https://") else target,
                opts=child,
            )

        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        self.endpoint_alarms: dict[str, dict[str, aws.cloudwatch.MetricAlarm]] = {}
        for endpoint in a.endpoints:
            self._alarms(name, endpoint)
        if spec.training_job_alerts:
            for training in a.training:
                self._training_failures(name, training)
                if training.cluster_queue:
                    self._training_queue(name, training, training.cluster_queue)
        if a.dashboard:
            self._dashboard(name)
        self.monitors: dict[str, aws.sagemaker.MonitoringSchedule] = {}

        self.register_outputs(
            {
                "topic_arn": self.topic.arn,
                "alarms": sorted(self.alarms),
                "opt_outs": self.opt_outs,
            }
        )

    def rollback_alarms(self, endpoint: str) -> list[aws.cloudwatch.MetricAlarm]:
        """The alarms a deployment of `endpoint` rolls back on (naming.ROLLBACK_ALARM_METRICS)."""
        mine = self.endpoint_alarms.get(endpoint, {})
        return [mine[m] for m in naming.ROLLBACK_ALARM_METRICS if m in mine]

    def watch_data_quality(
        self,
        endpoint: str,
        endpoint_name: pulumi.Output[str],
        baseline: str,
    ) -> aws.sagemaker.MonitoringSchedule:
        """A Model Monitor data-quality schedule on `endpoint`, checked against `baseline`; called
        once the endpoint exists (its name, an Output, makes the monitor wait for it)."""
        a = self.args
        self.monitors[endpoint] = data_quality_monitor(
            self,
            self._n,
            DataQualityArgs(
                endpoint=endpoint,
                endpoint_name=endpoint_name,
                baseline=baseline,
                names=a.names,
                tags=a.tags,
                account_id=a.account_id,
                region=a.region,
                partition=a.partition,
                kms_key_arn=self.key_arn,
                registry_bucket=a.registry_bucket,
                registry_bucket_arn=a.registry_bucket_arn,
                topic_arn=self.topic.arn,
                network=a.network,
            ),
        )
        return self.monitors[endpoint]

    # --- alarms ----------------------------------------------------------------------------
    def _alarms(self, name: str, endpoint: WatchedEndpoint) -> None:
        spec, n, a = self.args.spec, self.args.names, self.args
        dims = {"EndpointName": n.endpoint(endpoint.name), "VariantName": VARIANT}
        actions = [self.topic.arn]

        mine = self.endpoint_alarms.setdefault(endpoint.name, {})

        def alarm(metric: str, description: str, **kwargs: object) -> None:
            alarm_name = n.alarm(endpoint.name, metric)
            mine[metric] = self.alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
                f"{name}-{endpoint.name}-{metric}",
                name=alarm_name,
                alarm_description=description,
                alarm_actions=actions,
                ok_actions=actions,
                tags=a.tags,
                opts=pulumi.ResourceOptions(parent=self),
                **kwargs,
            )

        alarm(
            "latency-p99",
            f"p99 model latency above {spec.latency_p99_ms:g} ms for 3 of 5 minutes",
            namespace="AWS/SageMaker",
            metric_name="ModelLatency",
            dimensions=dims,
            extended_statistic="p99",
            period=60,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            # ModelLatency is reported in microseconds.
            threshold=spec.latency_p99_ms * 1000,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )
        metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs
        query = aws.cloudwatch.MetricAlarmMetricQueryArgs
        alarm(
            "5xx-rate",
            f"More than {spec.error_rate_percent:g}% of invocations fail with 5xx for 3 of 5 minutes",
            metric_queries=[
                query(
                    id="errors",
                    metric=metric(
                        namespace="AWS/SageMaker",
                        metric_name="Invocation5XXErrors",
                        dimensions=dims,
                        stat="Sum",
                        period=60,
                    ),
                    return_data=False,
                ),
                query(
                    id="invocations",
                    metric=metric(
                        namespace="AWS/SageMaker", metric_name="Invocations", dimensions=dims, stat="Sum", period=60
                    ),
                    return_data=False,
                ),
                query(
                    id="rate",
                    expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                    label="5xx error rate (%)",
                    return_data=True,
                ),
            ],
            evaluation_periods=5,
            datapoints_to_alarm=3,
            threshold=spec.error_rate_percent,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )
        alarm(
            "no-invocations",
            f"No invocations for {spec.no_traffic_minutes} minutes",
            namespace="AWS/SageMaker",
            metric_name="Invocations",
            dimensions=dims,
            statistic="Sum",
            period=60,
            evaluation_periods=spec.no_traffic_minutes,
            threshold=0,
            comparison_operator="LessThanOrEqualToThreshold",
            # No datapoints means no invocations.
            treat_missing_data="breaching",
        )
        cores = vcpus(endpoint.instance_type) if endpoint.instance_type else 1
        alarm(
            "cpu",
            f"CPU above {spec.cpu_percent:g}% of {cores} vCPUs for 5 minutes",
            namespace="/aws/sagemaker/Endpoints",
            metric_name="CPUUtilization",
            dimensions=dims,
            statistic="Average",
            period=60,
            evaluation_periods=5,
            threshold=spec.cpu_percent * cores,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )
        alarm(
            "memory",
            f"Memory above {spec.memory_percent:g}% for 5 minutes",
            namespace="/aws/sagemaker/Endpoints",
            metric_name="MemoryUtilization",
            dimensions=dims,
            statistic="Average",
            period=60,
            evaluation_periods=5,
            threshold=spec.memory_percent,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )

    # --- training, dashboard ----------------------------------------------------------------
    def _training_failures(self, name: str, training: WatchedTraining) -> None:
        """Failed pods in the training namespace, from Container Insights with enhanced
        observability (the cluster's amazon-cloudwatch-observability add-on): pod_status_failed
        per PodName, Namespace and ClusterName, summed over the namespace by a Metrics Insights
        query, since every job's pods have new names (CloudWatch User Guide, "Amazon EKS and
        Kubernetes Container Insights with enhanced observability metrics")."""
        n, a = self.args.names, self.args
        actions = [self.topic.arn]
        query = pulumi.Output.from_input(training.cluster_name).apply(
            lambda cluster: (
                "SELECT SUM(pod_status_failed) FROM SCHEMA(ContainerInsights, ClusterName, Namespace, PodName) "
                f"WHERE ClusterName = '{cluster}' AND Namespace = '{training.namespace}'"
            )
        )
        alarm_name = n.training_failures_alarm(training.cluster)
        self.alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
            f"{name}-{training.cluster}-failed-pods",
            name=alarm_name,
            alarm_description=f"A training pod failed in namespace {training.namespace} of {training.cluster}",
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="failed", expression=query, period=300, label="failed training pods", return_data=True
                )
            ],
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _training_queue(self, name: str, training: WatchedTraining, cluster_queue: str) -> None:
        """Workloads pending in the cluster's Kueue ClusterQueue for PENDING_PERIODS five-minute
        periods in a row: Kueue's kueue_pending_workloads gauge, which the cluster's CloudWatch
        agent imports as a Container Insights Prometheus metric (cluster_observability.py)."""
        n, a = self.args.names, self.args
        actions = [self.topic.arn]
        alarm_name = n.training_queue_alarm(training.cluster)
        self.alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
            f"{name}-{training.cluster}-queue-pending",
            name=alarm_name,
            alarm_description=(
                f"Training workloads have waited {PENDING_PERIODS * 5} minutes in Kueue queue {cluster_queue} "
                f"of {training.cluster}: its quota is used up or a job asks for more than it grants"
            ),
            namespace=PROMETHEUS_NAMESPACE,
            metric_name=PENDING_METRIC,
            dimensions={"ClusterName": training.cluster_name, "cluster_queue": cluster_queue},
            # The agents of several nodes may report the same gauge: any one above zero counts.
            statistic="Maximum",
            period=300,
            evaluation_periods=PENDING_PERIODS,
            datapoints_to_alarm=PENDING_PERIODS,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _dashboard(self, name: str) -> None:
        n, a = self.args.names, self.args
        widgets: list[dict[str, object]] = []
        for i, endpoint in enumerate(a.endpoints):
            ep = n.endpoint(endpoint.name)
            dims = ["EndpointName", ep, "VariantName", VARIANT]
            for j, (title, metrics) in enumerate(
                [
                    ("invocations", [["AWS/SageMaker", "Invocations", *dims, {"stat": "Sum"}]]),
                    ("latency p99 (us)", [["AWS/SageMaker", "ModelLatency", *dims, {"stat": "p99"}]]),
                    ("5xx errors", [["AWS/SageMaker", "Invocation5XXErrors", *dims, {"stat": "Sum"}]]),
                    (
                        "cpu / memory",
                        [
                            ["/aws/sagemaker/Endpoints", "CPUUtilization", *dims],
                            ["/aws/sagemaker/Endpoints", "MemoryUtilization", *dims],
                        ],
                    ),
                ]
            ):
                widgets.append(
                    {
                        "type": "metric",
                        "x": j * 6,
                        "y": i * 6,
                        "width": 6,
                        "height": 6,
                        "properties": {"title": f"{endpoint.name}: {title}", "region": a.region, "metrics": metrics},
                    }
                )
        if self.alarms:
            widgets.append(
                {
                    "type": "alarm",
                    "x": 0,
                    "y": len(a.endpoints) * 6,
                    "width": 24,
                    "height": 4,
                    "properties": {"title": "Alarms", "alarms": [alarm.arn for alarm in self.alarms.values()]},
                }
            )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=n.dashboard(),
            dashboard_body=pulumi.Output.json_dumps({"widgets": widgets}),
            opts=pulumi.ResourceOptions(parent=self),
        )
