"""The normal path through the CLI, by two people: bob (promoter) registers and promotes, alice
(approver) approves; then rollback, history and status. Against the local emulator, each
person an IAM user assuming the platform's duty roles."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import boto3

from mlplatform import naming
from tests.integration.conftest import (
    IMAGE,
    MODEL,
    approve,
    cli,
    command,
    environ,
    ledger_items,
    register,
    registry,
    run,
    sha256,
    stack_file,
    stack_version,
)

BOB = "arn:aws:sts::123456789012:assumed-role/fraud-{env}-promoter/bob"
ALICE = "arn:aws:sts::123456789012:assumed-role/fraud-{env}-approver/alice"


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
    assert manifest["image"] == IMAGE and manifest["registered_by"] == "bob"
    packages = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=f"fraud-dev-{MODEL}")
    assert len(packages["ModelPackageSummaryList"]) == 1
    # the next registration takes the next number
    assert register(project, artifact, good_metrics) == "2"
    entries = [json.loads(i["entry"]["S"]) for i in ledger_items("dev")]
    assert [(e["action"], e["by"], e["identity"]) for e in entries] == [
        ("register", "bob", BOB.format(env="dev")),
        ("register", "bob", BOB.format(env="dev")),
    ]


def test_two_person_path_register_promote_approve_promote_rollback(
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
        result = approve(project, version)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith(f"approved {MODEL} {version} in staging by alice: offline eval ok")
        result = cli(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", version, "--yes")
        assert result.exit_code == 0, result.stderr
        # production shows its plan: versions, artifact, image, who approved, gates
        assert result.stdout.startswith(f"promotion plan: {MODEL} staging -> prod (production)\n")
        assert f"  approved in staging by alice (ledger entry {1 if version == v1 else 2})\n" in result.stdout
        assert f"  image {IMAGE}\n" in result.stdout
        assert f"promoted {MODEL} {version} staging -> prod" in result.stdout
        assert stack_version(project, "prod") == version

    prod = stack_file(project, "prod").read_text()
    assert f"models/{MODEL}/{v2}/v2.tar.gz" in prod
    assert "# Promoted model versions (mlplatform:models) are added here by `mlplatform promote` and reviewed" in prod

    result = cli(project, "rollback", MODEL, "--env", "prod", "--yes", "--reason", "p99 latency regression")
    assert result.exit_code == 0, result.stderr
    assert f"rolled back {MODEL} {v1} in prod (was {v2})" in result.stdout
    assert stack_version(project, "prod") == v1

    history = cli(project, "history", MODEL, "--json", person="alice")
    assert history.exit_code == 0, history.stderr
    entries = json.loads(history.stdout)
    assert [(e["action"], e["env"], e["version"], e["by"]) for e in entries] == [
        ("register", "dev", v1, "bob"),
        ("register", "dev", v2, "bob"),
        ("promote", "staging", v1, "bob"),
        ("approve", "staging", v1, "alice"),
        ("promote", "prod", v1, "bob"),
        ("promote", "staging", v2, "bob"),
        ("approve", "staging", v2, "alice"),
        ("promote", "prod", v2, "bob"),
        ("rollback", "prod", v1, "bob"),
    ]
    assert all(e["at"] and e["model"] == MODEL and e["hash"] for e in entries)
    approval = entries[3]
    assert approval["identity"] == ALICE.format(env="staging") and approval["sha256"] == sha256(artifact)
    assert approval["image"] == IMAGE
    prod_promotion = entries[4]
    assert prod_promotion["identity"] == BOB.format(env="prod")
    assert prod_promotion["approval"] == {
        "env": "staging",
        "seq": 1,
        "hash": approval["hash"],
        "by": "alice",
        "identity": ALICE.format(env="staging"),
    }
    assert entries[-1]["previous_version"] == v2 and entries[-1]["reason"] == "p99 latency regression"
    prod_history = json.loads(cli(project, "history", MODEL, "--env", "prod", "--json").stdout)
    assert [e["action"] for e in prod_history] == ["promote", "promote", "rollback"]

    for pattern in ("Pulumi.recs-*.yaml", "Pulumi.search-*.yaml"):  # the other example platforms
        for other in (project / "stacks").glob(pattern):
            other.unlink()  # lists versions its ledger never recorded: drift, and exit 1
    status = cli(project, "status", "--env", "prod", "--json", person="alice")
    assert status.exit_code == 0, status.stderr
    row = json.loads(status.stdout)["environments"]["prod"][MODEL]
    assert row["version"] == v1 and row["ledger_version"] == v1 and row["drift"] == []
    assert row["by"] == "bob" and row["ledger"]["sha256"] == sha256(artifact) and row["ledger_verified"] is True

    # approval is recorded on the SageMaker model package too
    sm = boto3.client("sagemaker")
    summaries = sm.list_model_packages(ModelPackageGroupName=f"fraud-staging-{MODEL}")["ModelPackageSummaryList"]
    assert {s["ModelApprovalStatus"] for s in summaries} == {"Approved"}


def _promote_to_staging_and_approve(project: Path, artifact: Path, metrics: Path) -> str:
    version = register(project, artifact, metrics)
    assert cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version).exit_code == 0
    assert approve(project, version).exit_code == 0
    return version


def test_production_shows_the_plan_then_asks_on_a_terminal(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = _promote_to_staging_and_approve(project, artifact, good_metrics)
    before = sha256(stack_file(project, "prod"))
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            command(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", version),
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environ(),
        )
        os.write(leader, b"n\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(leader)
        os.close(follower)
    assert process.returncode == 1, err
    assert out.startswith(f"promotion plan: {MODEL} staging -> prod (production)\n  version (none) -> {version} in ")
    assert "  gates passed: order, version exists and checksum matches, metrics, no alarm in ALARM, " in out
    assert err.startswith(f"promote {MODEL} to {version} in prod (production)? [y/N]:")
    assert err.endswith("nothing was changed\n")
    assert sha256(stack_file(project, "prod")) == before and ledger_items("prod") == []


def test_production_without_a_terminal_needs_yes(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = _promote_to_staging_and_approve(project, artifact, good_metrics)
    before = sha256(stack_file(project, "prod"))
    done = run(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", version)
    assert done.returncode == 1
    assert done.stderr == (
        f"error: promote {MODEL} changes production and needs confirmation, but there is no terminal to ask: "
        "pass --yes to proceed. Nothing was changed\n"
    )
    as_json = run(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", version, "--json")
    assert as_json.returncode == 1
    failure = json.loads(as_json.stdout)
    assert failure["error"]["exit_code"] == 1 and "pass --yes to proceed" in failure["error"]["message"]
    assert sha256(stack_file(project, "prod")) == before and ledger_items("prod") == []


def test_promote_in_a_subprocess_and_already_there(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    done = run(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version)
    assert done.returncode == 0, done.stderr
    assert f"promoted {MODEL} {version} dev -> staging (first version there)" in done.stdout
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
    lines = result.stdout.splitlines()
    assert lines[0] == f"promotion plan: {MODEL} dev -> staging"
    assert lines[-4] == "  gates passed: order, version exists and checksum matches, metrics, no alarm in ALARM"
    assert lines[-3] == "  by bob (arn:aws:sts::123456789012:assumed-role/fraud-staging-promoter/bob)"
    assert lines[-1] == "dry run: nothing was changed"
    assert f"  version (none) -> {version} in " in result.stdout
    assert sha256(stack_file(project, "staging")) == before and ledger_items("staging") == []
    objects = boto3.client("s3").list_objects_v2(Bucket=registry("staging")).get("Contents", [])
    assert objects == []
    as_json = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--dry-run", "--json")
    data = json.loads(as_json.stdout)
    assert data["dry_run"] is True and data["version"] == version and data["ledger_seq"] is None
    assert data["sha256"] == sha256(artifact) and data["image"] == IMAGE and data["by"] == "bob"


def test_apply_without_pulumi_cli_changes_nothing(
    project: Path, artifact: Path, good_metrics: Path, tmp_path: Path
) -> None:
    version = register(project, artifact, good_metrics)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    before = sha256(stack_file(project, "staging"))
    done = run(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--apply", env={"PATH": str(empty)})
    assert done.returncode == 1
    assert done.stderr == (
        "error: --apply needs the Pulumi CLI, which is not installed (https://www.pulumi.com/docs/install/); "
        "nothing was changed. Install it, or promote without --apply and run `pulumi up -s staging` later\n"
    )
    assert sha256(stack_file(project, "staging")) == before and ledger_items("staging") == []
    assert stack_version(project, "staging") != version


def test_gate_failure_under_json_is_a_document_on_stdout(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", "99", "--json")
    assert result.exit_code == 1
    failure = json.loads(result.stdout)["error"]
    assert failure["kind"] == "invalid" and failure["exit_code"] == 1
    assert failure["failures"] == [
        f"version gate: {MODEL} version 99 does not exist in dev (registered versions there: {version})"
    ]
    assert result.stderr.startswith(f"error: promote {MODEL} 99 dev -> staging: 1 gate failed")


def test_one_name_per_idea_old_spellings_still_work_hidden(
    project: Path, artifact: Path, good_metrics: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from mlplatform.cli.app import app

    for command_name, hidden, shown in (
        ("promote", "--approved-by", "--by"),
        ("rollback", "--to-version", "--version"),
    ):
        text = CliRunner().invoke(app, [command_name, "--help"], env={"COLUMNS": "200"}).stdout
        assert shown in text and hidden not in text, command_name
    first = register(project, artifact, good_metrics)
    other = tmp_path / "other.tar.gz"
    other.write_bytes(b"second" * 1000)
    second = register(project, other, good_metrics)
    for version in (first, second):
        assert cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version).exit_code == 0
    done = cli(project, "rollback", MODEL, "--env", "staging", "--to-version", first, "--json")
    assert done.exit_code == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["action"], data["version"], data["previous_version"], data["by"]) == ("rollback", first, second, "bob")
    assert stack_version(project, "staging") == first
