"""TrainingPipeline on AWS, in the example's prod and dev plans (the program under Pulumi's mocks):
the SageMaker Pipeline, its schedule, the rules that start it, the failure alert and the roles."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlplatform.components.aws.pipeline_definition import EVALUATE, GUARD, REGISTER, TRAIN
from tests.components.conftest import STACKS, Resources, run_stack_file

ACCOUNT = "123456789012"
PIPELINE_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/fraud-prod-retrain"
SCHEDULE_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:*/fraud-prod-scorer-data-quality"


@pytest.fixture(scope="module")
def prod() -> Resources:
    return Resources(run_stack_file(STACKS / "samples" / "Pulumi.prod-promoted.yaml"))


@pytest.fixture(scope="module")
def dev() -> Resources:
    return Resources(run_stack_file(STACKS / "Pulumi.dev.yaml"))


def _role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _definition(r: Resources) -> dict[str, Any]:
    return json.loads(r.named("retrain-pipeline").inputs["pipelineDefinition"])


def _only_starts_the_pipeline(r: Resources, purpose: str, service: str) -> None:
    role = r.named(f"retrain-{purpose}-role")
    trust = r.policy(role, "assumeRolePolicy")["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    assert r.policy(r.named(f"retrain-{purpose}-policy"))["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["sagemaker:StartPipelineExecution"],
            "Resource": PIPELINE_ARN,
            "Sid": "StartThisPipeline",
        }
    ]


def test_prod_runs_the_pipeline_with_its_own_role(prod: Resources) -> None:
    pipeline = prod.named("retrain-pipeline")
    assert pipeline.type == "aws:sagemaker/pipeline:Pipeline"
    assert pipeline.inputs["pipelineName"] == "fraud-prod-retrain"
    assert pipeline.inputs["roleArn"] == _role_arn("fraud-prod-retrain-pipeline")
    # The roles its steps pass hold their policies before the pipeline exists (and first runs).
    policies = {prod.named(f"retrain-{p}-policy").urn for p in ("train", "register", "pipeline")}
    assert policies <= set(pipeline.dependencies)


def test_prod_schedules_the_pipeline(prod: Resources) -> None:
    # EventBridge Scheduler User Guide, "Schedule types" and universal/templated targets: a
    # SageMaker pipeline target takes SageMakerPipelineParameters and a role Scheduler assumes.
    schedule = prod.one("aws:scheduler/schedule:Schedule")
    assert schedule.inputs["name"] == "fraud-prod-retrain-schedule"
    assert schedule.inputs["scheduleExpression"] == "cron(0 3 ? * MON *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "UTC"
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    target = schedule.inputs["target"]
    assert target["arn"] == PIPELINE_ARN
    assert target["roleArn"] == _role_arn("fraud-prod-retrain-scheduler")
    assert target["sagemakerPipelineParameters"] == {"pipelineParameters": [{"name": "Trigger", "value": "schedule"}]}
    _only_starts_the_pipeline(prod, "scheduler", "scheduler.amazonaws.com")


def test_prod_starts_the_pipeline_on_drift(prod: Resources) -> None:
    # EventBridge User Guide, "Amazon SageMaker Pipelines as a target": SageMakerPipelineParameters
    # and a role EventBridge assumes, allowed sagemaker:StartPipelineExecution.
    rule = prod.named("retrain-drift")
    assert rule.inputs["name"] == "fraud-prod-retrain-drift"
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {
            "ExitMessage": [{"prefix": "CompletedWithViolations"}],
            "MonitoringScheduleArn": [{"wildcard": SCHEDULE_ARN}],
            "ProcessingJobStatus": ["Completed"],
        },
    }
    target = prod.named("retrain-drift-target")
    assert target.inputs["arn"] == PIPELINE_ARN
    assert target.inputs["roleArn"] == _role_arn("fraud-prod-retrain-events")
    assert target.inputs["sagemakerPipelineTarget"] == {
        "pipelineParameterLists": [{"name": "Trigger", "value": "drift"}]
    }
    _only_starts_the_pipeline(prod, "events", "events.amazonaws.com")


def test_failed_runs_alert_the_platform_topic(prod: Resources) -> None:
    rule = prod.named("retrain-failed")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
        "detail": {"currentPipelineExecutionStatus": ["Failed"], "pipelineArn": [PIPELINE_ARN]},
    }
    target = prod.named("retrain-failed-target")
    assert target.inputs["arn"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:fraud-prod-monitoring-alerts"
    assert target.inputs["inputTransformer"]["inputPaths"] == {"execution": "$.detail.pipelineExecutionArn"}
    # The topic lets EventBridge publish (its policy), as for Model Monitor's alerts.
    topic_policy = prod.policy(prod.named("monitoring-alerts-policy"))
    assert "events.amazonaws.com" in topic_policy["Statement"][0]["Principal"]["Service"]


def test_the_pipeline_role_only_runs_its_steps_and_passes_two_roles(prod: Resources) -> None:
    # CreateTrainingJob / CreateProcessingJob: "the caller of this API must have the iam:PassRole permission".
    statements = prod.policy(prod.named("retrain-pipeline-policy"))["Statement"]
    assert statements[1] == {
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": [_role_arn("fraud-prod-retrain-train"), _role_arn("fraud-prod-retrain-register")],
        "Sid": "PassJobRoles",
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    }
    assert statements[0]["Resource"] == [
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/pipelines-*",
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:processing-job/pipelines-*",
    ]
    assert not any("*" in a for s in statements for a in s["Action"])


def test_the_registration_step_becomes_dev_promoter_and_sees_only_its_pipeline(prod: Resources) -> None:
    statements = {s["Sid"]: s for s in prod.policy(prod.named("retrain-register-policy"))["Statement"]}
    assert statements["RegisterAsPromoter"]["Resource"] == _role_arn("fraud-dev-promoter")
    assert statements["SeeOwnExecutions"]["Resource"] == PIPELINE_ARN
    assert statements["StopOwnExecution"] == {
        "Effect": "Allow",
        "Action": ["sagemaker:DescribePipelineExecution", "sagemaker:StopPipelineExecution"],
        "Resource": f"{PIPELINE_ARN}/execution/*",
        "Sid": "StopOwnExecution",
    }
    registry = f"arn:aws:s3:::fraud-prod-model-registry-{ACCOUNT}"
    assert statements["ReadPipelineOutput"]["Resource"] == f"{registry}/staging/pipelines/retrain/*"


def test_training_reads_the_feature_store_and_writes_only_the_pipeline_output(prod: Resources) -> None:
    statements = {s["Sid"]: s for s in prod.policy(prod.named("retrain-train-policy"))["Statement"]}
    offline = f"arn:aws:s3:::fraud-prod-features-offline-{ACCOUNT}"
    assert statements["ReadTrainingData"]["Resource"] == f"{offline}/data/transactions/*"
    registry = f"arn:aws:s3:::fraud-prod-model-registry-{ACCOUNT}"
    assert statements["WritePipelineOutput"]["Resource"] == f"{registry}/staging/pipelines/retrain/*"
    # The registry's policy denies the pipeline's job roles any write under models/.
    policy = prod.policy(prod.named("core-registry-policy"))
    deny = next(s for s in policy["Statement"] if s.get("Sid") == "DenyWorkloadWritesToPromotedVersions")
    principals = deny["Condition"]["ArnLike" if "ArnLike" in deny["Condition"] else "ArnEquals"]["aws:PrincipalArn"]
    assert {_role_arn("fraud-prod-retrain-train"), _role_arn("fraud-prod-retrain-register")} <= set(principals)


def test_the_definition_connects_its_steps(prod: Resources) -> None:
    definition = _definition(prod)
    assert definition["Version"] == "2020-12-01"
    assert definition["Parameters"] == [{"Name": "Trigger", "Type": "String", "DefaultValue": "manual"}]
    steps = definition["Steps"]
    assert [s["Name"] for s in steps] == [GUARD, TRAIN, EVALUATE, REGISTER]
    assert [s["Type"] for s in steps] == ["Processing", "Training", "Processing", "Processing"]
    # Each step runs after the one before: by DependsOn, or by reading its properties.
    assert steps[1]["DependsOn"] == [GUARD]
    assert _reads(steps[2]) == {f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"}
    assert _reads(steps[3]) == {
        f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts",
        f"Steps.{EVALUATE}.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri",
        "Parameters.Trigger",
        "Execution.PipelineExecutionArn",
    }
    declared = {f"Parameters.{p['Name']}" for p in definition["Parameters"]}
    for step in steps:
        for ref in _reads(step):
            kind, name = ref.split(".")[:2]
            assert kind in ("Steps", "Parameters", "Execution"), ref
            assert kind != "Parameters" or ref in declared, ref
            assert kind != "Steps" or name in [s["Name"] for s in steps[: steps.index(step)]], ref


def test_the_steps_run_encrypted_in_the_vpc(prod: Resources) -> None:
    steps = {s["Name"]: s["Arguments"] for s in _definition(prod)["Steps"]}
    train = steps[TRAIN]
    assert train["EnableNetworkIsolation"] is True
    assert train["VpcConfig"]["Subnets"] and train["VpcConfig"]["SecurityGroupIds"]
    assert {k: v for k, v in train["ResourceConfig"].items() if k != "VolumeKmsKeyId"} == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.2xlarge",
        "VolumeSizeInGB": 50,
    }
    assert train["ResourceConfig"]["VolumeKmsKeyId"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    assert train["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
        f"s3://fraud-prod-features-offline-{ACCOUNT}/data/transactions/"
    )
    assert train["OutputDataConfig"]["S3OutputPath"] == (
        f"s3://fraud-prod-model-registry-{ACCOUNT}/staging/pipelines/retrain/models"
    )
    assert steps[EVALUATE]["NetworkConfig"]["EnableNetworkIsolation"] is True
    register = steps[REGISTER]
    assert register["AppSpecification"]["ContainerEntrypoint"] == [
        "python3",
        "-m",
        "mlplatform.promotion.pipeline_steps",
        "register",
    ]
    assert register["Environment"]["MLPLATFORM_ENVIRONMENT"] == "dev"
    assert register["Environment"]["MLPLATFORM_RAN_IN"] == "prod"
    assert register["Environment"]["MLPLATFORM_PROMOTER_ROLE_ARN"] == _role_arn("fraud-dev-promoter")


def test_dev_promoter_trusts_every_environments_registration_step(dev: Resources) -> None:
    role = dev.named("access-promoter")
    trust = {s["Sid"]: s for s in dev.policy(role, "assumeRolePolicy")["Statement"]}
    assert trust["PipelinesRegister"] == {
        "Sid": "PipelinesRegister",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "ArnEquals": {
                "aws:PrincipalArn": [_role_arn(f"fraud-{e}-retrain-register") for e in ("dev", "prod", "staging")]
            },
            "StringLike": {"sts:RoleSessionName": "pipeline-*"},
        },
    }


def test_dev_has_the_pipeline_without_schedule_or_drift(dev: Resources) -> None:
    assert dev.named("retrain-pipeline").inputs["pipelineName"] == "fraud-dev-retrain"
    assert dev.of_type("aws:scheduler/schedule:Schedule") == []
    assert [r.name for r in dev.of_type("aws:cloudwatch/eventRule:EventRule") if r.name.startswith("retrain")] == [
        "retrain-failed"
    ]


def _reads(value: Any) -> set[str]:
    """Every {"Get": ...} reference inside a step."""
    if isinstance(value, dict):
        if set(value) == {"Get"}:
            return {value["Get"]}
        return {ref for v in value.values() for ref in _reads(v)}
    if isinstance(value, list):
        return {ref for v in value for ref in _reads(v)}
    return set()


def test_the_plan_shows_steps_schedule_and_triggers(prod: Resources) -> None:
    from mlplatform.plan.settings import key_settings

    assert key_settings(prod.named("retrain-pipeline")) == ["steps Guard -> Train -> Evaluate -> Register"]
    assert key_settings(prod.one("aws:scheduler/schedule:Schedule")) == ["cron(0 3 ? * MON *) UTC", "Trigger=schedule"]
    assert key_settings(prod.named("retrain-drift-target")) == ["starts pipeline Trigger=drift"]
    assert key_settings(prod.named("retrain-drift")) == [
        "Start fraud-prod-retrain when Model Monitor found violations of the baseline"
    ]
