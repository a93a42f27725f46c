"""The whole path through the CLI: register -> promote dev->staging -> approve ->
promote staging->prod -> rollback, against the local emulator."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from mlplatform import naming
from tests.integration.conftest import (
    IMAGE,
    MODEL,
    cli,
    ledger_items,
    register,
    registry,
    run,
    sha256,
    stack_file,
    stack_version,
)


def test_register_json_records_manifest_and_model_package(project: Path, artifact: Path, good_metrics: Path) -> None:
    result = cli(
        project,
        "register",
        MODEL,
        "--env",
        "dev",
        "--artifact",
        str(artifact),
        "--metrics",
        str(good_metrics),
        "--image",
        IMAGE,
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    expected_sha = sha256(artifact)
    assert data["model"] == MODEL and data["version"] == "1" and data["sha256"] == expected_sha
    assert data["uri"] == f"s3://{registry('dev')}/models/{MODEL}/1/model.tar.gz"
    assert data["metrics"] == {"auc": 0.95, "logloss": 0.2}
    s3 = boto3.client("s3")
    stored = s3.get_object(Bucket=registry("dev"), Key=naming.artifact_key(MODEL, "1", "model.tar.gz"))["Body"].read()
    assert stored == artifact.read_bytes()
    manifest = json.loads(s3.get_object(Bucket=registry("dev"), Key=naming.manifest_key(MODEL, "1"))["Body"].read())
    assert manifest["sha256"] == expected_sha and manifest["size"] == artifact.stat().st_size
    assert manifest["image"] == IMAGE and manifest["registered_by"] == "tester"
    packages = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=f"fraud-dev-{MODEL}")
    assert len(packages["ModelPackageSummaryList"]) == 1
    # the next registration takes the next number
    assert register(project, artifact, good_metrics) == "2"
    assert [i["action"]["S"] for i in ledger_items("dev")] == ["register", "register"]


def test_full_path_register_promote_approve_promote_rollback(
    project: Path, artifact: Path, good_metrics: Path, tmp_path: Path
) -> None:
    v1 = register(project, artifact, good_metrics)
    second = tmp_path / "v2.tar.gz"
    second.write_bytes(b"version two" * 1000)
    v2 = register(project, second, good_metrics)

    for version in (v1, v2):
        result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith(f"promoted {MODEL} {version} dev -> staging")
        result = cli(
            project,
            "approve",
            MODEL,
            "--env",
            "staging",
            "--version",
            version,
            "--by",
            "alice",
            "--reason",
            "offline eval ok",
        )
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith(f"approved {MODEL} {version} in staging by alice: offline eval ok")
        # prod asks for confirmation; answering no aborts with nothing changed
        before = sha256(stack_file(project, "prod"))
        result = cli(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", version, input="n\n")
        assert result.exit_code == 1 and sha256(stack_file(project, "prod")) == before
        result = cli(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", version, "--yes")
        assert result.exit_code == 0, result.stderr
        assert stack_version(project, "prod") == version

    prod = stack_file(project, "prod").read_text()
    assert f"models/{MODEL}/{v2}/v2.tar.gz" in prod
    assert "# Promoted model versions: written by `mlplatform promote`, reviewed like code." in prod

    result = cli(project, "rollback", MODEL, "--env", "prod", "--yes", "--reason", "p99 latency regression")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"rolled back {MODEL} {v1} in prod (was {v2})")
    assert stack_version(project, "prod") == v1

    history = json.loads(cli(project, "history", MODEL, "--json").stdout)
    assert [(e["action"], e["env"], e["version"]) for e in history] == [
        ("register", "dev", v1),
        ("register", "dev", v2),
        ("promote", "staging", v1),
        ("approve", "staging", v1),
        ("promote", "prod", v1),
        ("promote", "staging", v2),
        ("approve", "staging", v2),
        ("promote", "prod", v2),
        ("rollback", "prod", v1),
    ]
    assert all(e["by"] and e["at"] and e["model"] == MODEL for e in history)
    assert history[-1]["previous_version"] == v2 and history[-1]["reason"] == "p99 latency regression"
    prod_history = json.loads(cli(project, "history", MODEL, "--env", "prod", "--json").stdout)
    assert [e["action"] for e in prod_history] == ["promote", "promote", "rollback"]

    status = cli(project, "status", "--env", "prod", "--json")
    assert status.exit_code == 0, status.stderr
    assert json.loads(status.stdout)["prod"][MODEL] == v1

    # approval is recorded on the SageMaker model package
    sm = boto3.client("sagemaker")
    summaries = sm.list_model_packages(ModelPackageGroupName=f"fraud-staging-{MODEL}")["ModelPackageSummaryList"]
    assert {s["ModelApprovalStatus"] for s in summaries} == {"Approved"}


def test_promote_in_a_subprocess_and_already_there(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    done = run(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version)
    assert done.returncode == 0, done.stderr
    assert f"promoted {MODEL} {version} dev -> staging (was 6)" in done.stdout
    assert stack_version(project, "staging") == version
    again = run(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{MODEL} {version} is already in staging; nothing to do\n"
    assert len(ledger_items("staging")) == 1


def test_dry_run_checks_gates_and_changes_nothing(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    before = sha256(stack_file(project, "staging"))
    result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "dry run: all gates passed (order, version exists and checksum matches, metrics, no alarm in ALARM); "
        "nothing was changed. Would:"
    )
    assert f"set {MODEL} to {version} in" in result.stdout
    assert sha256(stack_file(project, "staging")) == before and ledger_items("staging") == []
    objects = boto3.client("s3").list_objects_v2(Bucket=registry("staging")).get("Contents", [])
    assert objects == []


def test_apply_without_pulumi_cli_keeps_the_promotion(
    project: Path, artifact: Path, good_metrics: Path, tmp_path: Path, monkeypatch: object
) -> None:
    version = register(project, artifact, good_metrics)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    done = run(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--apply", env={"PATH": str(empty)})
    assert done.returncode == 1
    assert "error: --apply needs the Pulumi CLI, which is not installed" in done.stderr
    assert "the promotion is recorded in the stack file and the ledger: run `pulumi up -s staging` from" in done.stderr
    assert "Traceback" not in done.stderr
    assert stack_version(project, "staging") == version
    assert [i["action"]["S"] for i in ledger_items("staging")] == ["promote"]
