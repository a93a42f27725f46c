"""MonitoringStack: topic, subscriptions, alarms, training failures, dashboard, Model Monitor."""

from __future__ import annotations

import json

import pytest

from mlplatform import naming
from mlplatform.components.aws.model_monitor import analyzer_image, execution_pattern
from mlplatform.components.aws.monitoring import (
    MonitoringArgs,
    MonitoringStack,
    WatchedEndpoint,
    WatchedTraining,
    vcpus,
)
from mlplatform.spec.monitoring import MonitoringStack as Spec
from tests.components.aws.helpers import ACCOUNT, KEY_ARN, REGION, REGISTRY, REGISTRY_ARN, TAGS, names, out
from tests.components.conftest import Resources, actions, assert_tagged, run

SPEC = Spec(
    name="monitoring",
    endpoints=["scorer"],
    notify=["oncall@example.com", "https://hooks.example.com/x"],
    latency_p99_ms=200,
    error_rate_percent=1.0,
    model_monitor=True,
)
BASELINE = f"s3://{REGISTRY}/models/fraud-xgb/5/baseline/"


def _monitoring(spec: Spec, data_quality: bool = True) -> None:
    monitor = MonitoringStack(
        "monitoring",
        MonitoringArgs(
            spec=spec,
            names=names(),
            tags=TAGS,
            account_id=ACCOUNT,
            region=REGION,
            kms_key_arn=KEY_ARN,
            registry_bucket=REGISTRY,
            registry_bucket_arn=REGISTRY_ARN,
            endpoints=[WatchedEndpoint("scorer", "ml.m5.xlarge", data_capture=True)],
            training=[WatchedTraining("train", out("fraud-dev-train"), "fraud-dev-train")],
        ),
    )
    if data_quality:
        import pulumi_aws as aws

        endpoint = aws.sagemaker.Endpoint("scorer-endpoint", name="fraud-dev-scorer", endpoint_config_name="c")
        monitor.watch_data_quality("scorer", endpoint.name, BASELINE)


@pytest.fixture(scope="module")
def watched() -> Resources:
    return Resources(run(lambda: _monitoring(SPEC)))


@pytest.fixture(scope="module")
def opted_out() -> Resources:
    spec = SPEC.model_copy(update={"opt_out": ["kms_encryption"], "training_job_alerts": False})
    return Resources(run(lambda: _monitoring(spec, data_quality=False)))


def _mine(r: Resources) -> list:
    component = r.component("mlplatform:aws:MonitoringStack")
    return [x for x in r.all if x.parent == component.urn]


def test_children_parented_named_and_tagged(watched: Resources) -> None:
    component = watched.component("mlplatform:aws:MonitoringStack")
    children = [r for r in watched.all if r is not component and r.name != "scorer-endpoint"]
    assert all(r.parent == component.urn and r.name.startswith("monitoring-") for r in children)
    assert assert_tagged(children, TAGS) >= 11


def test_topic_encrypted_with_subscriptions(watched: Resources) -> None:
    topic = watched.one("aws:sns/topic:Topic").inputs
    assert topic["name"] == "fraud-dev-monitoring-alerts" and topic["kmsMasterKeyId"] == KEY_ARN
    subs = {
        r.inputs["protocol"]: r.inputs["endpoint"]
        for r in watched.of_type("aws:sns/topicSubscription:TopicSubscription")
    }
    # a webhook URL may carry its token: the plan shows it masked, as Pulumi shows a secret
    assert subs == {"email": "oncall@example.com", "https": "[secret]"}


def test_alarms_named_for_rollback_with_spec_thresholds(watched: Resources) -> None:
    alarms = {r.inputs["name"]: r.inputs for r in watched.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(alarms) == {names().alarm("scorer", m) for m in naming.ENDPOINT_ALARM_METRICS} | {
        "fraud-dev-train-failed-pods"
    }
    latency = alarms["fraud-dev-scorer-latency-p99"]
    assert latency["metricName"] == "ModelLatency" and latency["extendedStatistic"] == "p99"
    assert latency["threshold"] == 200_000  # microseconds
    rate = alarms["fraud-dev-scorer-5xx-rate"]
    expression = next(q for q in rate["metricQueries"] if q.get("expression"))
    assert "errors" in expression["expression"] and rate["threshold"] == 1.0
    assert alarms["fraud-dev-scorer-no-invocations"]["treatMissingData"] == "breaching"
    assert alarms["fraud-dev-scorer-cpu"]["threshold"] == 90 * 4  # 4 vCPUs of ml.m5.xlarge
    assert all(a["alarmActions"] == [a["alarmActions"][0]] for a in alarms.values())


# An idle endpoint's no-invocations alarm (missing data = breaching) stays in ALARM: it must neither
# roll back a deployment nor block promotion (SageMaker Developer Guide, "Auto-Rollback
# Configuration and Monitoring": any listed alarm in ALARM during the bake rolls back).
def test_traffic_absence_alarm_neither_rolls_back_nor_gates_promotion() -> None:
    assert "no-invocations" in naming.ENDPOINT_ALARM_METRICS
    assert "no-invocations" not in naming.ROLLBACK_ALARM_METRICS
    assert "no-invocations" not in naming.PROMOTION_GATE_ALARM_METRICS
    assert set(naming.PROMOTION_GATE_ALARM_METRICS) == {"latency-p99", "5xx-rate", "cpu", "memory"}


def test_rollback_alarms_are_the_resources_of_the_rollback_metrics() -> None:
    found: list[list[str]] = []

    def program() -> None:
        monitor = MonitoringStack(
            "monitoring",
            MonitoringArgs(
                spec=SPEC,
                names=names(),
                tags=TAGS,
                account_id=ACCOUNT,
                region=REGION,
                kms_key_arn=KEY_ARN,
                registry_bucket=REGISTRY,
                registry_bucket_arn=REGISTRY_ARN,
                endpoints=[WatchedEndpoint("scorer", "ml.m5.xlarge", data_capture=False)],
            ),
        )
        found.append([alarm._name for alarm in monitor.rollback_alarms("scorer")])

    run(program)
    assert found == [[f"monitoring-scorer-{m}" for m in naming.ROLLBACK_ALARM_METRICS]]


def test_vcpus_of_instance_sizes() -> None:
    assert [vcpus(t) for t in ("ml.t2.medium", "ml.m5.large", "ml.m5.xlarge", "ml.g5.12xlarge")] == [2, 2, 4, 48]


# SageMaker Developer Guide, "Amazon SageMaker Model Monitor prebuilt container": the analyzer image
# is <account>.dkr.ecr.<region>.amazonaws.com/sagemaker-model-monitor-analyzer, with no tag (the
# provider's get_prebuilt_ecr_image default tag "1" is not a documented image).
def test_data_quality_job_uses_the_documented_analyzer_image(watched: Resources) -> None:
    job = watched.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    image = job["dataQualityAppSpecification"]["imageUri"]
    assert image == "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    assert (
        analyzer_image("us-west-2") == "159807026194.dkr.ecr.us-west-2.amazonaws.com/sagemaker-model-monitor-analyzer"
    )
    assert analyzer_image("cn-north-1") == (
        "453000072557.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-model-monitor-analyzer"
    )
    assert ":" not in image.rsplit("/", 1)[-1]
    # Regions opened later publish it too (the provider's prebuilt ECR image table).
    assert analyzer_image("ap-northeast-3") == (
        "990339680094.dkr.ecr.ap-northeast-3.amazonaws.com/sagemaker-model-monitor-analyzer"
    )
    assert analyzer_image("il-central-1") == (
        "843974653677.dkr.ecr.il-central-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    )


# SageMaker Developer Guide, "Create a Baseline" / "Schedule monitoring jobs": a data-quality job
# compares captured data with the baseline's statistics and constraints; without them it reports
# no violations.
def test_data_quality_job_checks_against_the_versions_baseline(watched: Resources) -> None:
    job = watched.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    baseline = job["dataQualityBaselineConfig"]
    assert baseline["constraintsResource"]["s3Uri"] == f"{BASELINE}constraints.json"
    assert baseline["statisticsResource"]["s3Uri"] == f"{BASELINE}statistics.json"
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "fraud-dev-scorer"
    assert job["dataQualityJobOutputConfig"]["kmsKeyId"] == KEY_ARN
    schedule = watched.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule").inputs
    assert schedule["monitoringScheduleConfig"]["monitoringType"] == "DataQuality"


# SageMaker API Reference, CreateDataQualityJobDefinition / CreateMonitoringSchedule: the endpoint
# named by EndpointInput must exist; the job definition takes the Endpoint's name as an Output.
def test_data_quality_job_waits_for_the_endpoint(watched: Resources) -> None:
    endpoint = watched.named("scorer-endpoint")
    job = watched.named("monitoring-scorer-data-quality")
    assert endpoint.urn in job.dependencies


# SageMaker Developer Guide, "SageMaker AI Roles", CreateProcessingJob execution role permissions:
# cloudwatch:PutMetricData, logs:CreateLogStream/PutLogEvents/CreateLogGroup/DescribeLogStreams,
# and in a VPC the ec2 network-interface actions on "*", unconditioned.
def test_monitor_role_has_what_a_processing_job_in_a_vpc_uses() -> None:
    r = Resources(run(lambda: _monitoring_in_vpc()))
    policy = r.policy(r.named("monitoring-scorer-monitor-policy"))
    granted = set(actions(policy))
    assert {
        "cloudwatch:PutMetricData",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeVpcs",
    } <= granted
    eni = next(s for s in policy["Statement"] if "ec2:CreateNetworkInterface" in s["Action"])
    assert eni["Resource"] == "*" and "Condition" not in eni
    logs = next(s for s in policy["Statement"] if s.get("Sid") == "WriteJobLogs")
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/ProcessingJobs"
    assert logs["Resource"] == [group, f"{group}:*"]
    baseline = next(s for s in policy["Statement"] if s.get("Sid") == "ReadBaseline")
    assert baseline["Resource"] == f"arn:aws:s3:::{REGISTRY}/models/fraud-xgb/5/baseline/*"


def _monitoring_in_vpc() -> None:
    import pulumi_aws as aws

    from mlplatform.components.aws.model_endpoint import NetworkPlacement

    monitor = MonitoringStack(
        "monitoring",
        MonitoringArgs(
            spec=SPEC,
            names=names(),
            tags=TAGS,
            account_id=ACCOUNT,
            region=REGION,
            kms_key_arn=KEY_ARN,
            registry_bucket=REGISTRY,
            registry_bucket_arn=REGISTRY_ARN,
            endpoints=[WatchedEndpoint("scorer", "ml.m5.xlarge", data_capture=True)],
            network=NetworkPlacement([out("subnet-a")], [out("sg-a")]),
        ),
    )
    endpoint = aws.sagemaker.Endpoint("scorer-endpoint", name="fraud-dev-scorer", endpoint_config_name="c")
    monitor.watch_data_quality("scorer", endpoint.name, BASELINE)


# EventBridge User Guide, "Amazon SageMaker AI events": a monitoring execution is a processing job
# ("SageMaker Processing Job State Change"); violations and failures alert the platform's topic.
def test_violations_and_failed_executions_alert_the_topic(watched: Resources) -> None:
    rules = {
        r.inputs["name"]: json.loads(r.inputs["eventPattern"])
        for r in watched.of_type("aws:cloudwatch/eventRule:EventRule")
    }
    schedule_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoringschedule/fraud-dev-scorer-data-quality"
    assert rules == {
        "fraud-dev-scorer-monitor-violations": execution_pattern(schedule_arn, violations=True),
        "fraud-dev-scorer-monitor-failed": execution_pattern(schedule_arn, violations=False),
    }
    assert rules["fraud-dev-scorer-monitor-violations"]["detail"]["ExitMessage"] == [
        {"prefix": "CompletedWithViolations"}
    ]
    assert rules["fraud-dev-scorer-monitor-failed"]["detail"]["ProcessingJobStatus"] == ["Failed", "Stopped"]
    targets = watched.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 2 and all(t.inputs["arn"].endswith(":fraud-dev-monitoring-alerts") for t in targets)


# CloudWatch User Guide, "Amazon EKS and Kubernetes Container Insights with enhanced observability
# metrics": pod_status_failed per PodName/Namespace/ClusterName; training runs as pods on EKS, not as
# SageMaker training jobs, so the alert sums failed pods of the training namespace.
def test_training_failures_alarm_watches_failed_pods_in_the_training_namespace(watched: Resources) -> None:
    alarm = watched.named("monitoring-train-failed-pods").inputs
    query = alarm["metricQueries"][0]
    assert query["expression"] == (
        "SELECT SUM(pod_status_failed) FROM SCHEMA(ContainerInsights, ClusterName, Namespace, PodName) "
        "WHERE ClusterName = 'fraud-dev-train' AND Namespace = 'fraud-dev-train'"
    )
    assert query["period"] == 300 and alarm["threshold"] == 0
    assert alarm["comparisonOperator"] == "GreaterThanThreshold" and alarm["treatMissingData"] == "notBreaching"
    assert alarm["alarmActions"][0].endswith(":fraud-dev-monitoring-alerts")
    assert not [
        r for r in watched.of_type("aws:cloudwatch/eventRule:EventRule") if "Training Job" in r.inputs["eventPattern"]
    ]


def test_dashboard(watched: Resources) -> None:
    dashboard = watched.one("aws:cloudwatch/dashboard:Dashboard").inputs
    assert dashboard["dashboardName"] == "fraud-dev-ml-platform"
    assert len(json.loads(dashboard["dashboardBody"])["widgets"]) == 5


def test_opt_outs_are_honoured_and_reported(opted_out: Resources) -> None:
    assert "kmsMasterKeyId" not in opted_out.one("aws:sns/topic:Topic").inputs
    assert not [r for r in _mine(opted_out) if r.name.endswith("failed-pods")]
    assert "kms_encryption" in " ".join(opted_out.captured.warnings)
