"""Feast itself, run against what the platform provisions: the local AWS emulator (moto's server
on 127.0.0.1) holding exactly what the plan creates, and a real redis-server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlplatform.promotion import sandbox
from tests.conftest import ROOT
from tests.feast.iam import Role

ACCOUNT = "123456789012"  # the plan's placeholder account is moto's default account


@pytest.fixture(scope="module")
def aws() -> Iterator[str]:
    """moto's server on 127.0.0.1, emptied first, with the process pointed at it; yields its URL."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
            mp.delenv(name, raising=False)
        server, url = sandbox.start(0)
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
        mp.setenv("AWS_ENDPOINT_URL", url)
        mp.setenv("FEAST_S3_ENDPOINT_URL", url)  # Feast's S3 registry store reads this one
        try:
            yield url
        finally:
            server.stop()


def clients(url: str, region: str) -> Callable[[str], Any]:
    import boto3

    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = boto3.client(service, region_name=region, endpoint_url=url)
        return made[service]

    return client


def feast_config(tmp: Path, blueprint: str, env: str) -> str:
    """`mlplatform feast-config BLUEPRINT --env ENV -o FILE`, as a team would fetch it."""
    from mlplatform.cli.app import app

    out = tmp / "feature_store.yaml"
    result = CliRunner().invoke(
        app,
        ["feast-config", str(ROOT / "blueprints" / blueprint), "--env", env, "--account-id", ACCOUNT, "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out.read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_server() -> str:
    found = shutil.which("redis-server")
    assert found, "redis-server is not installed: run scripts/setup (it installs the Debian package)"
    return found


FEATURE_VIEWS = """
from datetime import timedelta

from feast import Entity, FeatureView, Field
from feast.infra.offline_stores.contrib.athena_offline_store.athena_source import AthenaSource
from feast.types import Float32, Int64
from feast.value_type import ValueType

entity = Entity(name="{entity}", join_keys=["{entity}_id"], value_type=ValueType.INT64)


def view(name):
    return FeatureView(
        name=name,
        entities=[entity],
        ttl=timedelta(days=1),
        schema=[Field(name="{entity}_id", dtype=Int64), Field(name="score", dtype=Float32)],
        source=AthenaSource(
            name=name + "_source",
            table=name,
            database="{database}",
            data_source="AwsDataCatalog",
            timestamp_field="event_timestamp",
        ),
        online=True,
    )

"""


def write_repo(repo: Path, config: str, views: list[str], entity: str, database: str) -> None:
    """A team's Feast repo: the fetched feature_store.yaml and one feature view per name."""
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(config)
    body = FEATURE_VIEWS.format(entity=entity, database=database)
    body += "".join(f'{v} = view("{v}")\n' for v in views)
    # One module name per repo: Feast imports the repo's files as modules, and a module name seen
    # before in this process would come back from the import cache.
    module = f"views_{repo.parent.name}_{repo.name}".replace("-", "_")
    (repo / f"{module}.py").write_text(body)


def feast_cli(role: Role, repo: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """The `feast` CLI in a subprocess (`feast --chdir REPO ARGS`), every AWS call made as `role`."""
    role_file, calls_file = repo.parent / f"{repo.name}-role.json", repo.parent / f"{repo.name}-calls.json"
    role_file.write_text(json.dumps({"policy": role.document, "kms_keys": role.kms_keys}))
    command = [
        sys.executable,
        "-m",
        "tests.feast.feast_as",
        str(role_file),
        str(calls_file),
        "--",
        "--chdir",
        str(repo),
    ]
    done = subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    return done, json.loads(calls_file.read_text()) if calls_file.exists() else []


def feast_cli_here(role: Role, repo: Path, *args: str) -> tuple[int, str, list[dict[str, Any]]]:
    """The same `feast` CLI command run in this process (click's runner), every AWS call as `role`:
    (exit code, output, calls). Cheaper than a process when the process boundary is not the point."""
    from click.testing import CliRunner as ClickRunner
    from feast.cli.cli import cli

    from tests.feast.iam import guard

    with guard(role):
        result = ClickRunner().invoke(cli, ["--chdir", str(repo), *args])
    output = result.output + (f"{type(result.exception).__name__}: {result.exception}" if result.exception else "")
    calls = [
        {"service": c.service, "operation": c.operation, "needs": c.needs, "allowed": c.allowed} for c in role.calls
    ]
    return result.exit_code, output, calls
