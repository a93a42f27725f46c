"""The example blueprints are tests too: each validates for every environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform.blueprint import load
from mlplatform.cli.app import app
from tests.conftest import BLUEPRINTS, ROOT, opt_out_lines, stack_lines

EXAMPLES = sorted(BLUEPRINTS.glob("*.py"))
ENVIRONMENTS = {
    "fraud_detection.py": ["dev", "staging", "prod"],
    "recommender_k8s.py": ["dev", "staging", "prod"],
    "search_k8s.py": ["dev", "prod"],
}


def test_there_are_three_examples() -> None:
    # One AWS/SageMaker platform; two Kubernetes ones (KServe Serverless with IRSA, RawDeployment with Pod Identity).
    assert [p.name for p in EXAMPLES] == ["fraud_detection.py", "recommender_k8s.py", "search_k8s.py"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_for_every_environment(path: Path) -> None:
    result = load(path).validate()
    assert result.errors == []
    assert list(result.specs) == ENVIRONMENTS[path.name]


def test_cli_validates_all_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["validate", *map(str, EXAMPLES), "--all-envs"])
    assert result.exit_code == 0, result.output
    stacks = sorted(line for p in EXAMPLES for line in stack_lines(f"blueprints/{p.name}"))
    assert (
        result.output.splitlines()
        == [
            line
            for p in EXAMPLES
            for line in (*opt_out_lines(str(p)), f"{p}: valid for {', '.join(ENVIRONMENTS[p.name])}")
        ]
        + stacks
    )


def test_per_env_values_resolve_per_environment() -> None:
    blueprint = load(BLUEPRINTS / "fraud_detection.py")
    dev, prod = blueprint.resolve("dev"), blueprint.resolve("prod")
    scorer_dev, scorer_prod = dev.component("scorer"), prod.component("scorer")
    assert scorer_dev is not None and scorer_prod is not None
    assert (scorer_dev.min_instances, scorer_dev.max_instances) == (1, 1)  # type: ignore[union-attr]
    assert (scorer_prod.min_instances, scorer_prod.max_instances) == (2, 8)  # type: ignore[union-attr]
