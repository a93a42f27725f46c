"""A version's data-quality baseline: registered with it, promoted with it, named in the stack file.

SageMaker Developer Guide, "Monitor data quality": a data-quality monitoring job compares captured
requests with the baseline's statistics.json and constraints.json; without them it flags nothing.
Against the local emulator (moto's server), as bob the promoter and alice the approver.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import boto3
import pytest

from mlplatform import naming
from tests.integration.conftest import (
    MODEL,
    cli,
    register,
    register_cli,
    registry,
    stack_file,
)

STATISTICS = {
    "version": 0.0,
    "dataset": {"item_count": 1000},
    "features": [{"name": "amount", "inferred_type": "Fractional"}],
}
CONSTRAINTS = {"version": 0.0, "features": [{"name": "amount", "inferred_type": "Fractional", "completeness": 1.0}]}


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    folder = tmp_path / "baseline"
    folder.mkdir()
    (folder / "statistics.json").write_text(json.dumps(STATISTICS))
    (folder / "constraints.json").write_text(json.dumps(CONSTRAINTS))
    return folder


def _keys(env: str, prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=registry(env), Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def _stack_entry(project: Path, env: str) -> dict[str, object]:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(stack_file(project, env).read_text())
    return dict(data["config"]["mlplatform:models"][MODEL])


def test_register_stores_the_baseline_write_once_and_records_its_checksums(
    project: Path, artifact: Path, good_metrics: Path, baseline: Path
) -> None:
    result = register_cli(project, artifact, good_metrics, "--baseline", str(baseline))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    prefix = naming.baseline_prefix(MODEL, data["version"])
    assert data["baseline"] == f"s3://{registry('dev')}/{prefix}"
    assert _keys("dev", prefix) == [f"{prefix}constraints.json", f"{prefix}statistics.json"]
    s3 = boto3.client("s3")
    manifest = json.loads(
        s3.get_object(Bucket=registry("dev"), Key=naming.manifest_key(MODEL, data["version"]))["Body"].read()
    )
    assert manifest["baseline"] == {
        name: hashlib.sha256((baseline / name).read_bytes()).hexdigest()
        for name in ("constraints.json", "statistics.json")
    }
    stored = s3.get_object(Bucket=registry("dev"), Key=f"{prefix}statistics.json")["Body"].read()
    assert stored == (baseline / "statistics.json").read_bytes()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"statistics.json": STATISTICS}, "baseline has no constraints.json"),
        (
            {"statistics.json": STATISTICS, "constraints.json": {"rules": []}},
            "constraints.json is not a Model Monitor baseline file: expected a JSON object with a 'features' list",
        ),
    ],
)
def test_a_bad_baseline_registers_nothing(
    project: Path, artifact: Path, good_metrics: Path, tmp_path: Path, files: dict[str, object], message: str
) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_text(json.dumps(body))
    result = register_cli(project, artifact, good_metrics, "--baseline", str(folder))
    assert result.exit_code == 1
    assert f"error: {folder}: {message}" in result.stderr
    assert _keys("dev", f"models/{MODEL}/") == []  # no claim, artifact, baseline or manifest


def test_promotion_copies_the_baseline_and_names_it_in_the_stack_file(
    project: Path, artifact: Path, good_metrics: Path, baseline: Path, tmp_path: Path
) -> None:
    version = json.loads(register_cli(project, artifact, good_metrics, "--baseline", str(baseline)).stdout)["version"]
    result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    prefix = naming.baseline_prefix(MODEL, version)
    expected = f"s3://{registry('staging')}/{prefix}"
    assert json.loads(result.stdout)["baseline"] == expected
    assert _stack_entry(project, "staging")["baseline"] == expected
    s3 = boto3.client("s3")
    for name in ("statistics.json", "constraints.json"):
        copied = s3.get_object(Bucket=registry("staging"), Key=f"{prefix}{name}")["Body"].read()
        assert copied == (baseline / name).read_bytes()
    # A later version without a baseline does not inherit this one's: the key goes.
    second = tmp_path / "v2.tar.gz"
    second.write_bytes(b"two" * 1000)
    v2 = register(project, second, good_metrics)
    assert cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", v2, "--yes").exit_code == 0
    assert "baseline" not in _stack_entry(project, "staging")


def test_a_baseline_changed_after_registration_fails_the_checksum_gate_and_changes_nothing(
    project: Path, artifact: Path, good_metrics: Path, baseline: Path
) -> None:
    version = json.loads(register_cli(project, artifact, good_metrics, "--baseline", str(baseline)).stdout)["version"]
    key = f"{naming.baseline_prefix(MODEL, version)}constraints.json"
    # The registry policy denies this to everyone but the promoter; the emulator evaluates no policy.
    boto3.client("s3").put_object(Bucket=registry("dev"), Key=key, Body=b'{"features": []}')
    before = stack_file(project, "staging").read_bytes()
    result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version, "--yes")
    assert result.exit_code == 1
    assert f"dev: {MODEL} {version}'s baseline constraints.json has SHA-256" in result.stderr
    assert stack_file(project, "staging").read_bytes() == before
    assert _keys("staging", f"models/{MODEL}/") == []


def test_the_promoted_baseline_is_what_the_monitoring_schedule_checks(
    project: Path, artifact: Path, good_metrics: Path, baseline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stack file promotion wrote is the one `pulumi up -s staging` reads: its data-quality job
    # definition names the promoted baseline's files.
    version = json.loads(register_cli(project, artifact, good_metrics, "--baseline", str(baseline)).stdout)["version"]
    assert (
        cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version, "--yes").exit_code == 0
    )
    from typer.testing import CliRunner

    from mlplatform.cli.app import app

    monkeypatch.chdir(project)
    result = CliRunner().invoke(app, ["plan", "blueprints/fraud_detection.py", "--env", "staging", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    [job] = [
        r for r in plan["resources"] if r["type"] == "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
    ]
    prefix = f"s3://{registry('staging')}/{naming.baseline_prefix(MODEL, version)}"
    assert job["inputs"]["dataQualityBaselineConfig"] == {
        "constraintsResource": {"s3Uri": f"{prefix}constraints.json"},
        "statisticsResource": {"s3Uri": f"{prefix}statistics.json"},
    }


def test_a_baseline_in_the_registry_is_never_overwritten(
    project: Path, artifact: Path, good_metrics: Path, baseline: Path
) -> None:
    # S3 User Guide, "Add preconditions with conditional writes": PutObject with If-None-Match: *
    # fails with 412 where the key exists; the registry's write-once keys rely on it.
    from mlplatform.promotion import baselines
    from mlplatform.promotion.aws import Aws
    from mlplatform.promotion.errors import PromotionError
    from mlplatform.promotion.project import Project

    data = json.loads(register_cli(project, artifact, good_metrics, "--baseline", str(baseline)).stdout)
    aws = Aws(Project.find(project).environment(MODEL, "dev"))
    other = {name: b'{"features": []}' for name in naming.BASELINE_FILES}
    with pytest.raises(PromotionError) as refused:
        baselines.write(aws, MODEL, data["version"], other, baselines.digests(other))
    key = f"{naming.baseline_prefix(MODEL, data['version'])}statistics.json"
    assert str(refused.value) == (
        f"dev: s3://{registry('dev')}/{key} already exists with other bytes than {MODEL} {data['version']}'s "
        "baseline; registry keys are write-once: investigate"
    )
    stored = boto3.client("s3").get_object(Bucket=registry("dev"), Key=key)["Body"].read()
    assert stored == (baseline / "statistics.json").read_bytes()
