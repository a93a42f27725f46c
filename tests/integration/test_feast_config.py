"""`mlplatform feast-config` without --account-id reads the account pulumi up published in SSM."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app


def _run(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(project)
    result = CliRunner().invoke(app, ["feast-config", "blueprints/fraud_detection.py", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_the_account_comes_from_the_published_ssm_parameter(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    account = boto3.client("ssm").get_parameter(Name="/mlplatform/fraud/staging/account-id")["Parameter"]["Value"]
    out = tmp_path / "feature_store.yaml"
    code, _, err = _run(project, monkeypatch, "--env", "staging", "-o", str(out))
    assert code == 0, err
    where = f"account {account} from SSM (published by pulumi up)"
    assert err == f"wrote {out}: FeatureStore 'features', environment 'staging' ({where})\n"
    assert f"s3://fraud-staging-features-offline-{account}/feast/registry.db" in out.read_text()


def test_an_environment_that_was_never_deployed_says_what_to_do(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("ssm").delete_parameter(Name="/mlplatform/fraud/staging/account-id")
    code, out, err = _run(project, monkeypatch, "--env", "staging")
    assert (code, out) == (1, "")
    assert err == (
        "error: staging: SSM parameter /mlplatform/fraud/staging/account-id not found in us-east-1; "
        "has `pulumi up -s staging` run (or `mlplatform sandbox` for a local try)?; or pass --account-id, "
        f"or set aws:allowedAccountIds in {project / 'stacks' / 'Pulumi.staging.yaml'}\n"
    )
