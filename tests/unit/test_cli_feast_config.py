"""`mlplatform feast-config`: exit codes, exact messages, the file it writes, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mlplatform.cli.app import app
from tests.conftest import ROOT

FRAUD = "blueprints/fraud_detection.py"
RECS = "blueprints/recommender_k8s.py"
ACCOUNT = "111122223333"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["feast-config", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_prints_the_config_for_an_environment() -> None:
    code, out, err = _run(FRAUD, "--env", "prod", "--account-id", ACCOUNT)
    assert (code, err) == (0, "")
    assert out.startswith("# feature_store.yaml of FeatureStore 'features', platform 'fraud', environment 'prod'.\n")
    data = yaml.safe_load(out)
    assert data["project"] == "fraud_prod_features"
    assert data["registry"]["path"] == f"s3://fraud-prod-features-offline-{ACCOUNT}/feast/registry.db"
    assert data["online_store"]["tags"]["mlplatform:environment"] == "prod"


def test_writes_the_file_and_says_where_the_account_came_from(tmp_path: Path) -> None:
    target = tmp_path / "feature_repo" / "feature_store.yaml"
    code, out, err = _run(FRAUD, "--env", "dev", "--account-id", ACCOUNT, "--output", str(target))
    assert (code, out) == (0, "")
    assert err == (
        f"wrote {target}: FeatureStore 'features', environment 'dev' (account {ACCOUNT} from --account-id)\n"
    )
    assert target.read_text() == _run(FRAUD, "--env", "dev", "--account-id", ACCOUNT)[1]
    assert [p.name for p in target.parent.iterdir()] == ["feature_store.yaml"]  # no temporary file left


def test_json_carries_the_config_as_data() -> None:
    code, out, _ = _run(RECS, "--env", "prod", "--account-id", ACCOUNT, "--json")
    assert code == 0
    data = json.loads(out)
    assert {k: data[k] for k in ("store", "environment", "stack", "account_id", "file")} == {
        "store": "features",
        "environment": "prod",
        "stack": "recs-prod",
        "account_id": ACCOUNT,
        "file": None,
    }
    assert data["config"]["online_store"]["connection_string"].endswith(",password=${FEAST_REDIS_PASSWORD}")
    assert data["config"] == yaml.safe_load(_run(RECS, "--env", "prod", "--account-id", ACCOUNT)[1])


def test_the_account_comes_from_the_stack_files_allowed_accounts(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    text = (
        (ROOT / "stacks" / "Pulumi.dev.yaml")
        .read_text()
        .replace("config:\n", f'config:\n  aws:allowedAccountIds: ["{ACCOUNT}"]\n')
    )
    stack.write_text(text)
    out = tmp_path / "feature_store.yaml"
    code, _, err = _run(FRAUD, "--stack-file", str(stack), "-o", str(out))
    assert code == 0
    assert err.endswith(f"(account {ACCOUNT} from aws:allowedAccountIds in {stack})\n")
    assert f"fraud-dev-features-offline-{ACCOUNT}" in out.read_text()


def test_usage_and_input_errors() -> None:
    code, _, err = _run(FRAUD)
    assert code == 2 and "give --env, --stack or --stack-file" in err
    assert _run(FRAUD, "--env", "dev", "--account-id", "12345") == (
        1,
        "",
        "error: --account-id must be the 12 digits of an AWS account id; got '12345'\n",
    )
    assert _run(FRAUD, "--env", "dev", "--account-id", ACCOUNT, "--store", "online") == (
        1,
        "",
        f"error: {FRAUD}: no FeatureStore named 'online' (FeatureStores: features)\n",
    )
    assert _run(FRAUD, "--env", "qa", "--account-id", ACCOUNT) == (
        1,
        "",
        f"error: no stack file in stacks/ deploys {FRAUD} as environment 'qa'. Add stacks/Pulumi.qa.yaml "
        f"with mlplatform:blueprint: {FRAUD}, or pass --stack NAME or --stack-file FILE to plan it with "
        "another stack's config\n",
    )


def test_failures_under_json_are_json_on_stdout() -> None:
    code, out, err = _run(FRAUD, "--env", "dev", "--account-id", "12345", "--json")
    message = "--account-id must be the 12 digits of an AWS account id; got '12345'"
    assert (code, err) == (1, f"error: {message}\n")
    assert json.loads(out) == {"error": {"kind": "invalid", "exit_code": 1, "message": message}}
    code, out, _ = _run(FRAUD, "--json")
    assert code == 2
    assert json.loads(out)["error"]["kind"] == "usage"


def test_help() -> None:
    code, out, err = _run("-h")
    assert (code, err) == (0, "")
    assert "Usage: mlplatform feast-config [OPTIONS]" in out
