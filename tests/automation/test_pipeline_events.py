"""The EventBridge patterns that start a TrainingPipeline and report its failures, matched against
AWS's documented sample events by the local emulator's EventBridge (moto's server on 127.0.0.1).

moto 5.2 does not implement TestEventPattern, so each check is a rule with the pattern on the
default bus, a queue as its target, and the sample event put on the bus: the event reaches the
queue exactly when the emulator's EventBridge matched it. (AWS itself refuses PutEvents with an
`aws.` source from an account; the emulator accepts it, which is what lets the samples in.)"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from mlplatform.components.aws.training_pipeline import alarm_pattern, drift_pattern, failed_pattern, new_data_pattern
from mlplatform.promotion import sandbox

ACCOUNT = "123456789012"

# SageMaker Developer Guide, "Events that Amazon SageMaker sends to Amazon EventBridge", section
# "Pipeline execution state change" (the sample as published).
PIPELINE_EXECUTION = {
    "version": "0",
    "id": "315c1398-40ff-a850-213b-158f73kd93ir",
    "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
    "source": "aws.sagemaker",
    "account": "123456789012",
    "time": "2021-03-15T16:10:11Z",
    "region": "us-east-1",
    "resources": [
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/myPipeline-123",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/myPipeline-123/execution/p4jn9xou8a8s",
    ],
    "detail": {
        "pipelineExecutionDisplayName": "SomeDisplayName",
        "currentPipelineExecutionStatus": "Succeeded",
        "previousPipelineExecutionStatus": "Executing",
        "executionStartTime": "2021-03-15T16:03:13Z",
        "executionEndTime": "2021-03-15T16:10:10Z",
        "pipelineExecutionDescription": "SomeDescription",
        "pipelineArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/myPipeline-123",
        "pipelineExecutionArn": (
            "arn:aws:sagemaker:us-east-1:123456789012:pipeline/myPipeline-123/execution/p4jn9xou8a8s"
        ),
    },
}

# CloudWatch User Guide, "Alarm events and EventBridge", "State change for a single-metric alarm"
# (the sample as published, its reasonData left out).
ALARM_STATE_CHANGE = {
    "version": "0",
    "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
    "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch",
    "account": "123456789012",
    "time": "2019-10-02T17:04:40Z",
    "region": "us-east-1",
    "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"],
    "detail": {
        "alarmName": "ServerCpuTooHigh",
        "configuration": {
            "description": "Goes into alarm when server CPU utilization is too high!",
            "metrics": [
                {
                    "id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                    "metricStat": {
                        "metric": {
                            "dimensions": {"InstanceId": "i-12345678901234567"},
                            "name": "CPUUtilization",
                            "namespace": "AWS/EC2",
                        },
                        "period": 300,
                        "stat": "Average",
                    },
                    "returnData": True,
                }
            ],
        },
        "previousState": {"timestamp": "2019-10-01T13:56:40.987+0000", "value": "OK"},
        "state": {"timestamp": "2019-10-02T17:04:40.989+0000", "value": "ALARM"},
    },
}

# Amazon S3 User Guide, "EventBridge event message structure", "Object created" (as published).
OBJECT_CREATED = {
    "version": "0",
    "id": "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "account": "111122223333",
    "time": "2021-11-12T00:00:00Z",
    "region": "ca-central-1",
    "resources": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET1"],
    "detail": {
        "version": "0",
        "bucket": {"name": "DOC-EXAMPLE-BUCKET1"},
        "object": {
            "key": "example-key",
            "size": 5,
            "etag": "b1946ac92492d2347c6235b4d2611184",
            "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
            "sequencer": "617f08299329d189",
        },
        "request-id": "N4N7GDK58NMKJ12R",
        "requester": "123456789012",
        "source-ip-address": "1.2.3.4",
        "reason": "PutObject",
    },
}

# A Model Monitor execution is a processing job; SageMaker's "Processing job state change" event
# carries the job as DescribeProcessingJob returns it (SageMaker API Reference, DescribeProcessingJob:
# ProcessingJobStatus, ExitMessage, MonitoringScheduleArn), and a monitoring execution that found
# violations ends Completed with the status CompletedWithViolations at the start of its exit
# message (SageMaker Developer Guide, "Interpret results"). No published sample of this event was
# found, so this one is built from those fields and the EventBridge envelope above.
MONITORING_EXECUTION = {
    "version": "0",
    "id": "0d1b3c5e-7f9a-4b2c-8d6e-1f3a5b7c9d0e",
    "detail-type": "SageMaker Processing Job State Change",
    "source": "aws.sagemaker",
    "account": ACCOUNT,
    "time": "2026-12-01T03:12:00Z",
    "region": "us-east-1",
    "resources": [f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:processing-job/model-monitoring-202612010300-abc"],
    "detail": {
        "ProcessingJobName": "model-monitoring-202612010300-abc",
        "ProcessingJobArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:processing-job/model-monitoring-202612010300-abc",
        "ProcessingJobStatus": "Completed",
        "ExitMessage": "CompletedWithViolations: Job completed successfully with 3 violations.",
        "MonitoringScheduleArn": (
            f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:monitoring-schedule/fraud-prod-scorer-data-quality"
        ),
    },
}


class Bus:
    """A rule on the emulator's default event bus whose target is a queue."""

    def __init__(self, url: str) -> None:
        kwargs = {
            "endpoint_url": url,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        self.events, self.sqs = boto3.client("events", **kwargs), boto3.client("sqs", **kwargs)
        self.queue = self.sqs.create_queue(QueueName="pipeline-pattern-probe")["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def matches(self, pattern: dict[str, Any], event: dict[str, Any]) -> bool:
        self.events.put_rule(Name="probe", EventPattern=json.dumps(pattern), State="ENABLED")
        self.events.put_targets(Rule="probe", Targets=[{"Id": "queue", "Arn": self.queue_arn}])
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event["resources"],
        }
        assert self.events.put_events(Entries=[entry])["FailedEntryCount"] == 0
        messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        for m in messages:
            self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])
        assert all(json.loads(m["Body"])["detail"] == event["detail"] for m in messages)
        return bool(messages)


@pytest.fixture(scope="module")
def events() -> Iterator[Bus]:
    server, url = sandbox.start(0)
    try:
        yield Bus(url)
    finally:
        server.stop()


def _matches(bus: Bus, pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return bus.matches(pattern, event)


def _with(event: dict[str, Any], **detail: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["detail"].update(detail)
    return changed


def test_failed_runs_of_this_pipeline_alert(events: Bus) -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/myPipeline-123"
    pattern = failed_pattern(arn)
    assert _matches(events, pattern, _with(PIPELINE_EXECUTION, currentPipelineExecutionStatus="Failed"))
    # The published sample (Succeeded), a stopped run (the guard's), and another pipeline's failure do not.
    assert not _matches(events, pattern, PIPELINE_EXECUTION)
    assert not _matches(events, pattern, _with(PIPELINE_EXECUTION, currentPipelineExecutionStatus="Stopped"))
    other = _with(PIPELINE_EXECUTION, currentPipelineExecutionStatus="Failed", pipelineArn=f"{arn}-other")
    assert not _matches(events, pattern, other)


def test_drift_of_the_models_endpoint_starts_a_run(events: Bus) -> None:
    pattern = drift_pattern(["fraud-prod-scorer-data-quality"], "us-east-1", ACCOUNT, "aws")
    assert _matches(events, pattern, MONITORING_EXECUTION)
    clean = _with(MONITORING_EXECUTION, ExitMessage="Completed: Job completed successfully with no violations.")
    assert not _matches(events, pattern, clean)
    assert not _matches(events, pattern, _with(MONITORING_EXECUTION, ProcessingJobStatus="Failed"))
    other = MONITORING_EXECUTION["detail"]["MonitoringScheduleArn"].replace("scorer", "ranker")  # type: ignore[index]
    assert not _matches(events, pattern, _with(MONITORING_EXECUTION, MonitoringScheduleArn=other))
    # Another account's schedule of the same name does not either.
    elsewhere = MONITORING_EXECUTION["detail"]["MonitoringScheduleArn"].replace(ACCOUNT, "999999999999")  # type: ignore[index]
    assert not _matches(events, pattern, _with(MONITORING_EXECUTION, MonitoringScheduleArn=elsewhere))


def test_a_named_alarm_going_into_alarm_starts_a_run(events: Bus) -> None:
    pattern = alarm_pattern(["ServerCpuTooHigh"])
    assert _matches(events, pattern, ALARM_STATE_CHANGE)
    assert not _matches(events, pattern, _with(ALARM_STATE_CHANGE, state={"value": "OK"}))
    assert not _matches(events, alarm_pattern(["fraud-prod-scorer-errors"]), ALARM_STATE_CHANGE)


def test_new_data_under_the_prefix_starts_a_run(events: Bus) -> None:
    assert _matches(events, new_data_pattern("s3://DOC-EXAMPLE-BUCKET1/example"), OBJECT_CREATED)
    assert _matches(events, new_data_pattern("s3://DOC-EXAMPLE-BUCKET1/"), OBJECT_CREATED)
    assert not _matches(events, new_data_pattern("s3://DOC-EXAMPLE-BUCKET1/landing/"), OBJECT_CREATED)
    assert not _matches(events, new_data_pattern("s3://other-bucket/example"), OBJECT_CREATED)
