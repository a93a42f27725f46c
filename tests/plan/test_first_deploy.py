"""The first deploy of every example environment: planned with no promoted model, through the CLI.

A fresh account has no model versions. SageMaker's CreateModel checks that ModelDataUrl names an
existing object (SageMaker API Reference, CreateModel), so a first `pulumi up` that registered a
Model would fail and take the endpoint configuration, endpoint, autoscaling, monitor and SSM record
with it; on Kubernetes, an InferenceService's storage initializer (a Deployment's init container)
fails at pod start on an artifact that is not there. So no example stack file names a model (the
full plans are in stacks/samples/), and each must plan with exit 0 and deploy no model artifact.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform import stack_config
from mlplatform.blueprint import load
from mlplatform.cli.app import app
from tests.conftest import ROOT

runner = CliRunner()
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
SAMPLES = sorted((ROOT / "stacks" / "samples").glob("Pulumi.*-promoted.yaml"))
MODELS = f"{stack_config.PROJECT}:models"
MODEL_TYPES = (
    "aws:sagemaker/model:Model",
    "aws:sagemaker/endpoint:Endpoint",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
)
# An input naming a promoted artifact: s3://<registry>/models/<model>/<version>/...
ARTIFACT = re.compile(r"s3://[^\s\"]+/models/")


@pytest.fixture(autouse=True)
def _in_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


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


# Stack files name only artifacts promotion copied: KServe's storage initializer downloads storageUri at pod start.
@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_no_example_stack_file_names_a_model(path: Path) -> None:
    config = stack_config.read(path)
    assert MODELS not in config.values, f"{path.name} names models no promotion copied"
    assert config.models == {}


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_first_deploy_plans_with_exit_0_and_no_model(path: Path) -> None:
    config = stack_config.read(path)
    assert config.blueprint is not None
    result = runner.invoke(
        app, ["plan", config.blueprint, "--env", config.environment, "--stack-file", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    plan = json.loads(text[: text.rindex("}") + 1])
    assert plan["resources"], "nothing planned"
    assert [r["name"] for r in plan["resources"] if r["type"] in MODEL_TYPES] == []
    assert not [r["name"] for r in plan["resources"] if "modelDataUrl" in json.dumps(r["inputs"])]
    assert not [r["name"] for r in plan["resources"] if ARTIFACT.search(json.dumps(r["inputs"]))]
    assert [v for v in plan["violations"] if v["severity"] == "error" and not v["waived"]] == []


def test_every_stack_file_has_a_sample_that_adds_only_promoted_models() -> None:
    # stacks/samples/Pulumi.<stack>-promoted.yaml: the stack file once promotion wrote its models.
    assert [p.name.replace("-promoted", "") for p in SAMPLES] == [p.name for p in STACK_FILES]
    for sample, path in zip(SAMPLES, STACK_FILES, strict=True):
        promoted, config = stack_config.read(sample), stack_config.read(path)
        assert promoted.models, f"{sample.name} promotes nothing"
        rest = {k: v for k, v in promoted.values.items() if k != MODELS}
        assert rest == {**config.values, f"{stack_config.PROJECT}:environment": config.environment}, sample.name
