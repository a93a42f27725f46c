"""`mlplatform status` as the README's sandbox walk-through runs it: the sandbox holds the platform
it was started for, so status of the whole project says the other platform's ledgers cannot be read
(exit 1), and `--platform` narrows it to the one being worked on (exit 0, the right answer)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.conftest import MODEL, cli, register


@pytest.fixture
def two_platforms(project: Path) -> Path:
    """The project's stack files of the two example platforms only (fraud, recs)."""
    for path in (project / "stacks").glob("Pulumi.*.yaml"):
        if not re.fullmatch(r"Pulumi\.((dev|staging|prod)|recs-(dev|staging|prod))\.yaml", path.name):
            path.unlink()
    return project


def test_status_of_the_platform_in_the_sandbox(two_platforms: Path, artifact: Path, good_metrics: Path) -> None:
    project = two_platforms
    version = register(project, artifact, good_metrics)
    assert cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version).exit_code == 0

    narrowed = cli(project, "status", "--env", "staging", "--platform", "fraud", person="alice")
    assert (narrowed.exit_code, narrowed.stderr) == (0, "")
    rows = [line.split() for line in narrowed.stdout.splitlines()]
    assert rows[0] == ["env", "platform", "model", "stack", "file", "ledger", "by", "at", "drift", "from"]
    assert len(rows) == 2 and rows[1][:6] == ["staging", "fraud", MODEL, version, version, "bob"]
    assert rows[1][7:] == ["-"]  # no drift; registered from a file, not from MLflow

    whole = cli(project, "status", "--env", "staging", person="alice")
    assert whole.exit_code == 1
    assert whole.stderr.splitlines()[0] == (
        "error: staging (recs) recs-embedder: ledger not read: staging: SSM parameter "
        "/mlplatform/recs/staging/ledger-table not found in eu-west-1; has `pulumi up -s recs-staging` run "
        "(or `mlplatform sandbox` for a local try)?"
    )


def test_an_unknown_platform_names_the_known_ones(two_platforms: Path) -> None:
    result = cli(two_platforms, "status", "--env", "prod", "--platform", "frod", person="alice")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: no stack file in {two_platforms / 'stacks'} deploys platform 'frod' for environment 'prod'; "
        "platforms: fraud, recs\n"
    )
