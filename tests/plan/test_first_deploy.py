"""The first deploy of every example environment: planned with no promoted model, through the CLI.

A fresh account has no model versions. SageMaker's CreateModel checks that ModelDataUrl names an
existing object (SageMaker API Reference, CreateModel), so a first `pulumi up` that registered a
Model would fail and take the endpoint configuration, endpoint, autoscaling, monitor and SSM record
with it. Each example environment, with `mlplatform:models` removed from its stack file, must plan
with exit 0 and register no SageMaker Model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform import stack_config
from mlplatform.blueprint import load
from mlplatform.cli.app import app
from tests.conftest import ROOT

runner = CliRunner()
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
MODEL_TYPES = ("aws:sagemaker/model:Model", "aws:sagemaker/endpoint:Endpoint")


@pytest.fixture(autouse=True)
def _in_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _without_models(source: Path, folder: Path) -> Path:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    data = yaml.load(source.read_text(encoding="utf-8"))
    data["config"].pop(f"{stack_config.PROJECT}:models", None)
    copy = folder / source.name
    with copy.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return copy


def test_every_example_environment_is_covered() -> None:
    # Each environment of each example blueprint has its stack file, so each first deploy is planned below.
    environments = sorted((c.blueprint, c.environment) for c in map(stack_config.read, STACK_FILES))
    assert environments == sorted(
        (f"blueprints/{path.name}", env)
        for path in (ROOT / "blueprints").glob("*.py")
        for env in load(path).environments
    )
    assert {blueprint for blueprint, _ in environments} == {
        "blueprints/fraud_detection.py",
        "blueprints/recommender_k8s.py",
        "blueprints/search_k8s.py",
    }


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_first_deploy_plans_with_exit_0_and_no_sagemaker_model(path: Path, tmp_path: Path) -> None:
    config = stack_config.read(path)
    assert config.blueprint is not None
    copy = _without_models(path, tmp_path)
    result = runner.invoke(
        app, ["plan", config.blueprint, "--env", config.environment, "--stack-file", str(copy), "--json"]
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    plan = json.loads(text[: text.rindex("}") + 1])
    assert plan["resources"], "nothing planned"
    assert [r["name"] for r in plan["resources"] if r["type"] in MODEL_TYPES] == []
    assert not [r["name"] for r in plan["resources"] if "modelDataUrl" in json.dumps(r["inputs"])]
    assert [v for v in plan["violations"] if v["severity"] == "error" and not v["waived"]] == []
