"""A version registered by a TrainingPipeline run is what `mlplatform register` makes, and goes
through `mlplatform promote` with its gates exactly like one: against the local emulator, the
registration step's code (`mlplatform.promotion.pipeline_steps register`) run as the pipeline's
registration role, which becomes dev's promoter under a session named pipeline-retrain."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from mlplatform import naming
from mlplatform.promotion import pipeline_steps
from tests.integration.conftest import (
    GOOD_METRICS,
    IMAGE,
    MODEL,
    approve,
    cli,
    ledger_items,
    register,
    registry,
    stack_version,
)

ACCOUNT = naming.ACCOUNT_ID_PLACEHOLDER
EXECUTION = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/fraud-prod-retrain/execution/p4jn9xou8a8s"
# Where SageMaker puts a training step's model: <S3OutputPath>/<job name>/output/model.tar.gz.
TRAINED_KEY = "staging/pipelines/retrain/models/pipelines-p4jn9xou8a8s-Train-x1y2z3/output/model.tar.gz"
VARIABLES = {
    "AWS_REGION": "us-east-1",
    "MLPLATFORM_PLATFORM": "fraud",
    "MLPLATFORM_ENVIRONMENT": "dev",
    "MLPLATFORM_RAN_IN": "prod",
    "MLPLATFORM_PIPELINE": "retrain",
    "MLPLATFORM_PROMOTER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/fraud-dev-promoter",
}


@pytest.fixture
def step_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials SageMaker gives the step's container: a session of the pipeline's
    registration role (moto evaluates no trust policy; the planned one is asserted elsewhere)."""
    iam = boto3.client("iam")
    role = iam.create_role(
        RoleName="fraud-prod-retrain-register",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    creds = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="SageMaker")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    monkeypatch.delenv("MLPLATFORM_DUTY_ROLES", raising=False)


def _trained(data: bytes) -> str:
    boto3.client("s3").put_object(Bucket=registry("prod"), Key=TRAINED_KEY, Body=data)
    return f"s3://{registry('prod')}/{TRAINED_KEY}"


def _run_step(artifact: str, metrics: Path, trigger: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    argv = ["register", "--model", MODEL, "--artifact", artifact, "--metrics", str(metrics), "--image", IMAGE]
    argv += ["--trigger", trigger, "--execution", EXECUTION]
    assert pipeline_steps.main(argv, VARIABLES) == 0, capsys.readouterr().err
    return dict(json.loads(capsys.readouterr().out))


def _manifest(version: str) -> dict[str, Any]:
    body = boto3.client("s3").get_object(Bucket=registry("dev"), Key=naming.manifest_key(MODEL, version))["Body"]
    return dict(json.loads(body.read()))


def _package(version: str) -> dict[str, Any]:
    sm = boto3.client("sagemaker")
    for summary in sm.list_model_packages(ModelPackageGroupName=f"fraud-dev-{MODEL}")["ModelPackageSummaryList"]:
        described = sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        if described["CustomerMetadataProperties"][naming.MODEL_PACKAGE_VERSION_PROPERTY] == version:
            return dict(described)
    raise AssertionError(f"no model package of version {version}")


def test_a_pipeline_registration_is_what_register_makes(
    project: Path, tmp_path: Path, step_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = os.urandom(300 * 1024)
    metrics = tmp_path / "metrics.json"
    metrics.write_text(GOOD_METRICS)
    done = _run_step(_trained(data), metrics, "drift", capsys)
    assert (done["model"], done["version"], done["env"]) == (MODEL, "1", "dev")
    assert done["uri"] == f"s3://{registry('dev')}/models/{MODEL}/1/model.tar.gz"

    # The same bytes through `mlplatform register`, by a person.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    local = tmp_path / "model.tar.gz"
    local.write_bytes(data)
    assert register(project, local, metrics) == "2"

    by_pipeline, by_person = _manifest("1"), _manifest("2")
    assert sorted(by_pipeline) == sorted(by_person)
    provenance = {
        "version",
        "registered_by",
        "registered_at",
        "source_uri",
        "lineage",
        "model_package_arn",
        "git_commit",
    }
    assert {k: v for k, v in by_pipeline.items() if k not in provenance} == {
        k: v for k, v in by_person.items() if k not in provenance
    }
    assert by_pipeline["sha256"] == by_person["sha256"] != ""
    assert by_pipeline["registered_by"] == "pipeline-retrain"
    assert by_pipeline["lineage"] == {
        "source": f"s3://{registry('prod')}/{TRAINED_KEY}",
        "pipeline": "retrain",
        "execution": EXECUTION,
        "trigger": "drift",
        "ran_in": "prod",
    }
    # The model packages: the same shape, both pending approval, naming their own bytes.
    package_1, package_2 = _package("1"), _package("2")
    assert package_1["ModelApprovalStatus"] == package_2["ModelApprovalStatus"] == "PendingManualApproval"
    assert sorted(package_1["CustomerMetadataProperties"]) == sorted(package_2["CustomerMetadataProperties"])
    containers = package_1["InferenceSpecification"]["Containers"]
    assert containers == [{"Image": IMAGE, "ModelDataUrl": done["uri"]}]
    # The ledger entry names the promoter's session of the pipeline, as AWS says who called.
    entries = [json.loads(i["entry"]["S"]) for i in ledger_items("dev")]
    assert [(e["action"], e["version"], e["by"]) for e in entries] == [
        ("register", "1", "pipeline-retrain"),
        ("register", "2", "bob"),
    ]
    assert entries[0]["identity"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/fraud-dev-promoter/pipeline-retrain"


def test_the_pipelines_version_goes_through_promote_and_its_gates(
    project: Path, tmp_path: Path, step_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    good, poor = tmp_path / "good.json", tmp_path / "poor.json"
    good.write_text(GOOD_METRICS)
    poor.write_text('{"auc": 0.71, "logloss": 0.5}')
    assert _run_step(_trained(b"trained on drifted traffic" * 4000), good, "drift", capsys)["version"] == "1"
    assert _run_step(_trained(b"a worse model" * 4000), poor, "schedule", capsys)["version"] == "2"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)

    # Version 2's metrics fail staging's gates (auc >= 0.9, logloss <= 0.35): nothing is promoted.
    refused = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", "2")
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"error: promote {MODEL} 2 dev -> staging: 2 gates failed, nothing was changed:\n"
        f"  - metric gate: endpoint 'scorer' in staging requires auc >= 0.9; {MODEL} 2 has auc=0.71\n"
        f"  - metric gate: endpoint 'scorer' in staging requires logloss <= 0.35; {MODEL} 2 has logloss=0.5\n"
    )
    assert stack_version(project, "staging") is None

    # Version 1 goes dev -> staging, is approved there by another person, then staging -> prod.
    result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"promoted {MODEL} 1 dev -> staging")
    assert approve(project, "1").exit_code == 0
    result = cli(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", "1", "--yes")
    assert result.exit_code == 0, result.stderr
    assert f"promoted {MODEL} 1 staging -> prod" in result.stdout
    assert stack_version(project, "prod") == "1"

    # history shows which versions a pipeline registered and what started each run.
    history = cli(project, "history", MODEL, "--env", "dev", person="alice")
    assert history.exit_code == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0].endswith(
        f"dev      register {MODEL} 1  by pipeline-retrain (by pipeline retrain in prod, started by drift "
        "(execution p4jn9xou8a8s))"
    )
    assert "started by schedule" in lines[1]
    entries = json.loads(cli(project, "history", MODEL, "--json", person="alice").stdout)
    # Promotions carry the version's lineage on: prod's entry says a drift run trained it.
    assert [(e["action"], e["env"], (e.get("lineage") or {}).get("trigger")) for e in entries] == [
        ("register", "dev", "drift"),
        ("register", "dev", "schedule"),
        ("promote", "staging", "drift"),
        ("approve", "staging", None),
        ("promote", "prod", "drift"),
    ]
