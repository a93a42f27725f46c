"""A local AWS emulator for the promotion tests: moto's server on 127.0.0.1 (real HTTP),
started once per session, reset and seeded before each test through the same code as
`mlplatform sandbox`, and a fresh copy of the project files per test."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlplatform import naming
from mlplatform.promotion import sandbox
from tests.conftest import ROOT

BLUEPRINT = ROOT / "blueprints" / "fraud_detection.py"
RECS = ROOT / "blueprints" / "recommender_k8s.py"
MODEL = "fraud-xgb"
IMAGE = (
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost"
    "@sha256:0e1cb3b1b3e9a47d3a0e0b2a9f4d8c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"
)
GOOD_METRICS = '{"auc": 0.95, "logloss": 0.2}'


@dataclass
class Emulator:
    server: Any
    url: str
    port: int

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        """Start again on the same port; moto's state lives in this process and survives."""
        self.server, self.url = sandbox.start(self.port)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        for name in (
            "MLPLATFORM_DUTY_ROLES",
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ROLE_ARN",
            "MLPLATFORM_CHECKPOINT",
            "MLPLATFORM_PART_SIZE",
        ):
            mp.delenv(name, raising=False)
        server, url = sandbox.start(0)
        mp.setenv("AWS_ENDPOINT_URL", url)
        emu = Emulator(server, url, int(url.rsplit(":", 1)[1]))
        yield emu
        emu.stop()


@pytest.fixture(scope="session")
def environments() -> list[Any]:
    return sandbox.resolved_environments(str(BLUEPRINT))


@pytest.fixture
def both_platforms(emulator: Emulator, seeded: list[sandbox.Seeded]) -> list[sandbox.Seeded]:
    """The Kubernetes example's environments too, for commands that read every stack file."""
    return [*seeded, *sandbox.seed(sandbox.resolved_environments(str(RECS)), emulator.url)]


@pytest.fixture(autouse=True)
def seeded(emulator: Emulator, environments: list[Any]) -> list[sandbox.Seeded]:
    """Each test starts from what `pulumi up` of dev, staging and prod would have created, and
    two people: bob (promoter) and alice (approver), IAM users who assume the duty roles."""
    request = urllib.request.Request(f"{emulator.url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    found = sandbox.seed(environments, emulator.url)
    PEOPLE.clear()
    PEOPLE.update({p.name: p for p in sandbox.people(emulator.url)})
    return found


PEOPLE: dict[str, sandbox.Person] = {}


def as_person(name: str) -> dict[str, str]:
    """Environment variables that make the CLI act as one of the sandbox's people, through the
    platform roles of each command's duty (as `mlplatform sandbox` tells users to)."""
    person = PEOPLE[name]
    return {
        "AWS_ACCESS_KEY_ID": person.access_key_id,
        "AWS_SECRET_ACCESS_KEY": person.secret_access_key,
        "MLPLATFORM_DUTY_ROLES": "1",
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project files, so tests never touch the repository's stack files."""
    dest = tmp_path / "project"
    dest.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", dest / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", dest / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "blueprints", dest / "blueprints", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "model.tar.gz"
    path.write_bytes(os.urandom(256 * 1024))
    return path


@pytest.fixture
def good_metrics(tmp_path: Path) -> Path:
    path = tmp_path / "metrics.json"
    path.write_text(GOOD_METRICS)
    return path


# --- helpers ---------------------------------------------------------------------------------
def cli(project: Path, *args: str, input: str | None = None, person: str = "bob") -> Any:
    """Run the CLI in-process (typer's CliRunner) as `person`; stdout and stderr kept apart."""
    from mlplatform.cli.app import app

    result = CliRunner().invoke(app, [*args, "--project-dir", str(project)], input=input, env=as_person(person))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def command(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mlplatform", *args, "--project-dir", str(project)]


def environ(person: str = "bob", **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess run by `person`."""
    return {**os.environ, **as_person(person), **extra}


def run(
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60, person: str = "bob"
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a real subprocess, as `person`."""
    return subprocess.run(
        command(project, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **as_person(person), **(env or {})},
    )


def approve(project: Path, version: str, env: str = "staging", person: str = "alice", *extra: str) -> Any:
    """`mlplatform approve` by an approver (alice unless told)."""
    result = cli(
        project,
        "approve",
        MODEL,
        "--env",
        env,
        "--version",
        version,
        "--reason",
        "offline eval ok",
        *extra,
        person=person,
    )
    return result


def register_cli(project: Path, artifact: Path, metrics: Path | None, *extra: str) -> Any:
    """`mlplatform register MODEL --env dev --json` by bob, with `extra` options; the CLI's result."""
    args = ["register", MODEL, "--env", "dev", "--artifact", str(artifact), "--image", IMAGE, "--json", *extra]
    if metrics is not None:
        args += ["--metrics", str(metrics)]
    return cli(project, *args)


def register(project: Path, artifact: Path, metrics: Path | None, version: str | None = None) -> str:
    result = register_cli(project, artifact, metrics, *(["--version", version] if version is not None else []))
    assert result.exit_code == 0, result.stderr
    import json

    return str(json.loads(result.stdout)["version"])


def stack_file(project: Path, env: str) -> Path:
    return project / "stacks" / f"Pulumi.{env}.yaml"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ledger_items(env: str, platform: str = "fraud", model: str = MODEL) -> list[dict[str, Any]]:
    import boto3

    table = naming.Names(platform, env).ledger_table()
    response = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": naming.LEDGER_PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": naming.ledger_partition(model)}},
        ConsistentRead=True,
    )
    return list(response["Items"])


def registry(env: str) -> str:
    return naming.Names("fraud", env).registry_bucket(naming.ACCOUNT_ID_PLACEHOLDER)


def stack_version(project: Path, env: str) -> str | None:
    """The version the stack file names for MODEL; None before the environment's first promotion."""
    from mlplatform.stack_config import read

    promoted = read(stack_file(project, env)).models.get(MODEL)
    return promoted.version if promoted else None
