"""MonitoringStack: topic, subscriptions, alarms, Model Monitor, training failures, dashboard."""

from __future__ import annotations

import json

import pytest

from mlplatform import naming
from mlplatform.components.aws.monitoring import MonitoringArgs, MonitoringStack, WatchedEndpoint, vcpus
from mlplatform.spec.monitoring import MonitoringStack as Spec
from tests.components.aws.helpers import ACCOUNT, KEY_ARN, REGION, REGISTRY, REGISTRY_ARN, TAGS, names
from tests.components.conftest import Resources, assert_tagged, run

SPEC = Spec(
    name="monitoring",
    endpoints=["scorer"],
    notify=["oncall@example.com", "https://hooks.example.com/x"],
    latency_p99_ms=200,
    error_rate_percent=1.0,
)


def _monitoring(spec: Spec) -> None:
    MonitoringStack(
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
        ),
    )


@pytest.fixture(scope="module")
def watched() -> Resources:
    return Resources(run(lambda: _monitoring(SPEC)))


@pytest.fixture(scope="module")
def opted_out() -> Resources:
    spec = SPEC.model_copy(update={"opt_out": ["kms_encryption"], "training_job_alerts": False})
    return Resources(run(lambda: _monitoring(spec)))


def test_children_parented_named_and_tagged(watched: Resources) -> None:
    component = watched.component("mlplatform:aws:MonitoringStack")
    children = [r for r in watched.all if r is not component]
    assert all(r.parent == component.urn and r.name.startswith("monitoring-") for r in children)
    assert assert_tagged(children, TAGS) >= 9


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
    assert set(alarms) == {names().alarm("scorer", m) for m in naming.ENDPOINT_ALARM_METRICS}
    latency = alarms["fraud-dev-scorer-latency-p99"]
    assert latency["metricName"] == "ModelLatency" and latency["extendedStatistic"] == "p99"
    assert latency["threshold"] == 200_000  # microseconds
    rate = alarms["fraud-dev-scorer-5xx-rate"]
    expression = next(q for q in rate["metricQueries"] if q.get("expression"))
    assert "errors" in expression["expression"] and rate["threshold"] == 1.0
    assert alarms["fraud-dev-scorer-no-invocations"]["treatMissingData"] == "breaching"
    assert alarms["fraud-dev-scorer-cpu"]["threshold"] == 90 * 4  # 4 vCPUs of ml.m5.xlarge
    assert all(a["alarmActions"] == [a["alarmActions"][0]] for a in alarms.values())


def test_vcpus_of_instance_sizes() -> None:
    assert [vcpus(t) for t in ("ml.t2.medium", "ml.m5.large", "ml.m5.xlarge", "ml.g5.12xlarge")] == [2, 2, 4, 48]


def test_data_quality_schedule_for_captured_endpoints(watched: Resources) -> None:
    job = watched.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "fraud-dev-scorer"
    assert job["dataQualityAppSpecification"]["imageUri"].endswith("sagemaker-model-monitor-analyzer:mock")
    assert job["dataQualityJobOutputConfig"]["kmsKeyId"] == KEY_ARN
    schedule = watched.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule").inputs
    assert schedule["monitoringScheduleConfig"]["monitoringType"] == "DataQuality"


def test_training_failures_rule_and_dashboard(watched: Resources) -> None:
    pattern = json.loads(watched.one("aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])
    assert pattern["detail"] == {"TrainingJobStatus": ["Failed"]}
    assert watched.one("aws:cloudwatch/eventTarget:EventTarget").inputs["arn"].endswith(":fraud-dev-monitoring-alerts")
    dashboard = watched.one("aws:cloudwatch/dashboard:Dashboard").inputs
    assert dashboard["dashboardName"] == "fraud-dev-ml-platform"
    assert len(json.loads(dashboard["dashboardBody"])["widgets"]) == 5


def test_log_groups_with_retention_and_kms(watched: Resources) -> None:
    group = watched.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert group["name"] == "/aws/sagemaker/Endpoints/fraud-dev-scorer"
    assert group["retentionInDays"] == 365 and group["kmsKeyId"] == KEY_ARN


def test_opt_outs_are_honoured_and_reported(opted_out: Resources) -> None:
    assert "kmsMasterKeyId" not in opted_out.one("aws:sns/topic:Topic").inputs
    assert "kmsKeyId" not in opted_out.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert not opted_out.of_type("aws:cloudwatch/eventRule:EventRule")
    assert "kms_encryption" in " ".join(opted_out.captured.warnings)
