"""The pipeline's own steps: the one-run-at-a-time guard, and the pipeline accepted by the local
emulator's SageMaker with its Trigger parameter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from mlplatform import naming
from mlplatform.blueprint import load
from mlplatform.components.aws.pipeline_definition import Placement, definition
from mlplatform.promotion import pipeline_steps, sandbox
from mlplatform.promotion.errors import PromotionError
from mlplatform.spec.training_pipeline import TrainingPipeline
from tests.conftest import BLUEPRINTS

ACCOUNT = "123456789012"
PIPELINE = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/fraud-prod-retrain"
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _summary(execution: str, minutes: int, status: str) -> dict[str, Any]:
    # ListPipelineExecutions: PipelineExecutionSummaries (SageMaker API Reference).
    return {
        "PipelineExecutionArn": f"{PIPELINE}/execution/{execution}",
        "StartTime": T0 + timedelta(minutes=minutes),
        "PipelineExecutionStatus": status,
    }


def test_the_later_of_two_running_executions_stops() -> None:
    both = [_summary("a", 0, "Executing"), _summary("b", 2, "Executing")]
    assert pipeline_steps.earlier_running(both, f"{PIPELINE}/execution/b") == f"{PIPELINE}/execution/a"
    assert pipeline_steps.earlier_running(both, f"{PIPELINE}/execution/a") is None


def test_finished_runs_do_not_hold_a_new_one_back() -> None:
    done = [_summary("a", 0, s) for s in ("Succeeded", "Failed", "Stopped")]
    runs = [{**s, "PipelineExecutionArn": f"{s['PipelineExecutionArn']}{i}"} for i, s in enumerate(done)]
    runs.append(_summary("new", 5, "Executing"))
    assert pipeline_steps.earlier_running(runs, f"{PIPELINE}/execution/new") is None


def test_two_started_together_are_ordered_by_arn() -> None:
    both = [_summary("x", 0, "Executing"), _summary("y", 0, "Executing")]
    assert pipeline_steps.earlier_running(both, f"{PIPELINE}/execution/y") == f"{PIPELINE}/execution/x"
    assert pipeline_steps.earlier_running(both, f"{PIPELINE}/execution/x") is None


def test_an_execution_not_listed_is_an_error() -> None:
    with pytest.raises(PromotionError, match="is not among its pipeline's executions"):
        pipeline_steps.earlier_running([], f"{PIPELINE}/execution/z")


class _Recording:
    """ListPipelineExecutions answered from `summaries`; StopPipelineExecution recorded (the
    emulator runs no execution long enough to overlap, and has no StopPipelineExecution)."""

    def __init__(self, summaries: list[dict[str, Any]]) -> None:
        self.summaries, self.stopped, self.listed = summaries, [], []  # type: ignore[var-annotated]

    def get_paginator(self, name: str) -> Any:
        assert name == "list_pipeline_executions"
        outer = self

        class Pages:
            def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
                outer.listed.append(kwargs)
                yield {"PipelineExecutionSummaries": outer.summaries}

        return Pages()

    def stop_pipeline_execution(self, **kwargs: Any) -> None:
        self.stopped.append(kwargs["PipelineExecutionArn"])


def test_the_guard_stops_its_own_execution_when_an_earlier_one_runs() -> None:
    client = _Recording([_summary("a", 0, "Executing"), _summary("b", 2, "Executing")])
    assert pipeline_steps.guard(client, f"{PIPELINE}/execution/b") == f"{PIPELINE}/execution/a"
    assert client.listed == [{"PipelineName": "fraud-prod-retrain"}]
    assert client.stopped == [f"{PIPELINE}/execution/b"]
    client = _Recording([_summary("a", 0, "Succeeded"), _summary("b", 2, "Executing")])
    assert pipeline_steps.guard(client, f"{PIPELINE}/execution/b") is None
    assert client.stopped == []


@pytest.fixture(scope="module")
def sagemaker() -> Iterator[Any]:
    server, url = sandbox.start(0)
    try:
        yield boto3.client(
            "sagemaker",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    finally:
        server.stop()


def _definition() -> dict[str, Any]:
    spec = load(BLUEPRINTS / "fraud_detection.py").resolve("prod").component("retrain")
    assert isinstance(spec, TrainingPipeline)
    role = f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-retrain"
    placement = Placement(
        names=naming.Names("fraud", "prod"),
        registration=naming.Names("fraud", "dev"),
        region="us-east-1",
        account_id=ACCOUNT,
        partition="aws",
        registry_bucket=f"fraud-prod-model-registry-{ACCOUNT}",
        kms_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k",
        train_role_arn=f"{role}-train",
        register_role_arn=f"{role}-register",
        promoter_role_arn=f"arn:aws:iam::{ACCOUNT}:role/fraud-dev-promoter",
        training_data=f"s3://fraud-prod-features-offline-{ACCOUNT}/data/transactions/",
        subnet_ids=("subnet-1", "subnet-2"),
        security_group_ids=("sg-1",),
    )
    return definition(placement, spec)


def test_the_emulator_runs_the_pipeline_with_the_trigger_that_started_it(sagemaker: Any) -> None:
    sagemaker.create_pipeline(
        PipelineName="fraud-prod-retrain",
        PipelineDefinition=json.dumps(_definition()),
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-retrain-pipeline",
    )
    # What the drift rule's target sends (EventBridge's SageMakerPipelineParameters).
    arn = sagemaker.start_pipeline_execution(
        PipelineName="fraud-prod-retrain", PipelineParameters=[{"Name": "Trigger", "Value": "drift"}]
    )["PipelineExecutionArn"]
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    assert parameters == [{"Name": "Trigger", "Value": "drift"}]
    stored = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)["PipelineDefinition"]
    assert [s["Name"] for s in json.loads(stored)["Steps"]] == ["Guard", "Train", "Evaluate", "Register"]
    # The emulator finishes executions at once: the guard lets the next one run.
    assert pipeline_steps.guard(sagemaker, arn) is None
