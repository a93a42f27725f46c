"""MonitoringStack on AWS: alerting and dashboards for SageMaker endpoints.

An SNS topic (KMS) with the spec's email and HTTPS subscriptions; five CloudWatch alarms per
watched endpoint, named `naming.Names.alarm(endpoint, metric)` so that the endpoint's
auto-rollback refers to them; a Model Monitor data-quality schedule for endpoints that capture
data; an EventBridge rule for failed SageMaker training jobs; the platform's dashboard; and the
endpoints' log groups with retention and KMS (created before SageMaker would create them
without either).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.components.aws.model_endpoint import VARIANT, NetworkPlacement
from mlplatform.spec.monitoring import MonitoringStack as MonitoringSpec

MODEL_MONITOR_REPOSITORY = "sagemaker-model-monitor-analyzer"


@dataclass
class WatchedEndpoint:
    name: str  # spec name
    instance_type: str | None  # None: serverless (no instance CPU/memory metrics scale)
    data_capture: bool


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
        self.log_groups: dict[str, aws.cloudwatch.LogGroup] = {}
        for endpoint in a.endpoints:
            self.log_groups[endpoint.name] = aws.cloudwatch.LogGroup(
                f"{name}-{endpoint.name}-logs",
                name=n.endpoint_log_group(endpoint.name),
                retention_in_days=spec.log_retention_days,
                kms_key_id=self.key_arn,
                tags=a.tags,
                opts=child,
            )
            self._alarms(name, endpoint)
            if endpoint.data_capture:
                self._data_quality(name, endpoint)

        if spec.training_job_alerts:
            self._training_failures(name)
        if a.dashboard:
            self._dashboard(name)

        self.register_outputs(
            {
                "topic_arn": self.topic.arn,
                "alarms": sorted(self.alarms),
                "opt_outs": self.opt_outs,
            }
        )

    # --- alarms ----------------------------------------------------------------------------
    def _alarms(self, name: str, endpoint: WatchedEndpoint) -> None:
        spec, n, a = self.args.spec, self.args.names, self.args
        dims = {"EndpointName": n.endpoint(endpoint.name), "VariantName": VARIANT}
        actions = [self.topic.arn]

        def alarm(metric: str, description: str, **kwargs: object) -> None:
            alarm_name = n.alarm(endpoint.name, metric)
            self.alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
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

    # --- Model Monitor -----------------------------------------------------------------------
    def _data_quality(self, name: str, endpoint: WatchedEndpoint) -> None:
        n, a = self.args.names, self.args
        child = pulumi.ResourceOptions(parent=self)
        reports = pulumi.Output.concat(a.registry_bucket_arn, "/", naming.monitoring_reports_prefix(endpoint.name))
        captured = pulumi.Output.concat(a.registry_bucket_arn, "/", naming.data_capture_prefix(endpoint.name))
        role = policies.service_role(
            f"{name}-{endpoint.name}-monitor-role",
            n.role(endpoint.name, "monitor"),
            "sagemaker.amazonaws.com",
            a.tags,
            child,
            account_id=a.account_id,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-{endpoint.name}-monitor-policy",
            role=role.id,
            policy=policies.document(
                policies.allow(["s3:GetObject"], pulumi.Output.concat(captured, "*"), sid="ReadCapturedData"),
                policies.allow(
                    ["s3:GetObject", "s3:PutObject"], pulumi.Output.concat(reports, "*"), sid="WriteReports"
                ),
                policies.allow(["s3:ListBucket"], a.registry_bucket_arn, sid="ListCaptureAndReports"),
                policies.allow(
                    ["sagemaker:DescribeEndpoint"],
                    f"arn:{a.partition}:sagemaker:{a.region}:{a.account_id}:endpoint/{n.endpoint(endpoint.name)}",
                    sid="DescribeWatchedEndpoint",
                ),
                policies.allow(
                    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    f"arn:{a.partition}:logs:{a.region}:{a.account_id}:log-group:/aws/sagemaker/ProcessingJobs:*",
                    sid="WriteJobLogs",
                ),
                policies.kms_use(self.args.kms_key_arn),
                policies.kms_grant(self.args.kms_key_arn),
            ),
            opts=child,
        )
        image = aws.sagemaker.get_prebuilt_ecr_image_output(
            repository_name=MODEL_MONITOR_REPOSITORY, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        job = aws.sagemaker.DataQualityJobDefinition(
            f"{name}-{endpoint.name}-data-quality",
            name=n.data_quality_job(endpoint.name),
            role_arn=role.arn,
            data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
                image_uri=image.registry_path
            ),
            data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
                endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                    endpoint_name=n.endpoint(endpoint.name)
                )
            ),
            data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
                kms_key_id=self.args.kms_key_arn,
                monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                    s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                        s3_uri=pulumi.Output.concat(
                            "s3://", a.registry_bucket, "/", naming.monitoring_reports_prefix(endpoint.name).rstrip("/")
                        )
                    )
                ),
            ),
            job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
                cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                    instance_count=1,
                    instance_type="ml.m5.large",
                    volume_size_in_gb=20,
                    volume_kms_key_id=self.args.kms_key_arn,
                )
            ),
            network_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgs(
                enable_inter_container_traffic_encryption=True,
                enable_network_isolation=True,
                vpc_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigVpcConfigArgs(
                    subnets=a.network.subnet_ids, security_group_ids=a.network.security_group_ids
                )
                if a.network
                else None,
            ),
            stopping_condition=aws.sagemaker.DataQualityJobDefinitionStoppingConditionArgs(max_runtime_in_seconds=3600),
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        aws.sagemaker.MonitoringSchedule(
            f"{name}-{endpoint.name}-data-quality-schedule",
            name=n.data_quality_job(endpoint.name),
            monitoring_schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigArgs(
                monitoring_type="DataQuality",
                monitoring_job_definition_name=job.name,
                schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(
                    schedule_expression="cron(0 * ? * * *)"
                ),
            ),
            tags=a.tags,
            opts=child,
        )

    # --- training failures, dashboard ------------------------------------------------------
    def _training_failures(self, name: str) -> None:
        n, a = self.args.names, self.args
        rule = aws.cloudwatch.EventRule(
            f"{name}-training-failed",
            name=n.training_failures_rule(self.args.spec.name),
            description="A SageMaker training job failed",
            event_pattern=json.dumps(
                {
                    "source": ["aws.sagemaker"],
                    "detail-type": ["SageMaker Training Job State Change"],
                    "detail": {"TrainingJobStatus": ["Failed"]},
                }
            ),
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-training-failed-target",
            rule=rule.name,
            arn=self.topic.arn,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths={"job": "$.detail.TrainingJobName", "reason": "$.detail.FailureReason"},
                input_template='"SageMaker training job <job> failed: <reason>"',
            ),
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
