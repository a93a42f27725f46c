"""`mlplatform status` where no ledger can be reached (no AWS credentials at all): exit 1, each row
saying why its ledger was not read, one attempt per environment, and the table marking what is
unknown with '?' instead of claiming there is no drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform import stack_config
from mlplatform.cli.app import app
from tests.conftest import ROOT

NO_CREDENTIALS = (
    "Unable to locate credentials; set mlplatform:awsProfile or mlplatform:awsRoleArn in the stack file, "
    "or pass --aws-profile ENV=PROFILE"
)


STACKS = ("Pulumi.dev.yaml", "Pulumi.recs-dev.yaml")
# recs-dev as it is once its models are promoted (stacks/samples/), so one stack names versions the
# unread ledger cannot confirm; dev as it is (nothing promoted).
SOURCES = {"Pulumi.dev.yaml": "Pulumi.dev.yaml", "Pulumi.recs-dev.yaml": "samples/Pulumi.recs-dev-promoted.yaml"}


def _version(stack: str, model: str) -> str:
    entry = stack_config.read(ROOT / "stacks" / SOURCES[stack]).models.get(model)
    return entry.version if entry else "-"


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "project"
    dest.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", dest / "Pulumi.yaml")
    shutil.copytree(ROOT / "blueprints", dest / "blueprints", ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "stacks").mkdir()
    for name in STACKS:  # dev of both examples: one model, then two of the same environment
        shutil.copy(ROOT / "stacks" / SOURCES[name], dest / "stacks" / name)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("MLPLATFORM_DUTY_ROLES", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to fall back on
    monkeypatch.chdir(dest)
    return dest


def test_status_without_a_reachable_ledger_exits_1_and_says_why(offline: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--env", "dev"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: dev (fraud) fraud-xgb: ledger not read: dev: reading SSM parameter "
        f"/mlplatform/fraud/dev/ledger-table: {NO_CREDENTIALS}",
        "error: dev (recs) recs-embedder: ledger not read: dev: reading SSM parameter "
        f"/mlplatform/recs/dev/ledger-table: {NO_CREDENTIALS}",
        "error: dev (recs) recs-ranker: ledger not read: not tried, as reading it for recs-embedder failed",
    ]
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [
        ["env", "platform", "model", "stack", "file", "ledger", "by", "at", "drift", "from"],
        ["dev", "fraud", "fraud-xgb", _version(STACKS[0], "fraud-xgb"), "?", "-", "-", "?", "-"],
        ["dev", "recs", "recs-embedder", _version(STACKS[1], "recs-embedder"), "?", "-", "-", "?", "-"],
        ["dev", "recs", "recs-ranker", _version(STACKS[1], "recs-ranker"), "?", "-", "-", "?", "-"],
    ]


def test_status_json_carries_the_same(offline: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--env", "dev", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    ranker = data["environments"]["dev"]["recs-ranker"]
    assert (ranker["ledger_verified"], ranker["ledger_error"]) == (
        False,
        "not tried, as reading it for recs-embedder failed",
    )
