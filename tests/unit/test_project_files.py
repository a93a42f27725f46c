"""The Pulumi project files are consistent: `pulumi up -s <stack>` finds its program, its
config keys mean something, and its blueprint validates for the stack's environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from ruamel.yaml import YAML

from mlplatform import stack_config
from mlplatform.blueprint import load
from mlplatform.spec.model_endpoint import ModelEndpoint
from tests.conftest import ROOT, SHARED, known_keys_note

# CI clones the repository next to a copy of shared/: read the upstream schema from there.
PROJECT_SCHEMA = SHARED / "schemas" / "pulumi-project.schema.json"
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
# The stack files once models are promoted: the committed ones name none before a promotion.
SAMPLE_FILES = sorted((ROOT / "stacks" / "samples").glob("Pulumi.*-promoted.yaml"))


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    data: dict[str, Any] = _yaml(ROOT / "Pulumi.yaml")
    return data


def test_pulumi_yaml_matches_the_pulumi_cli_schema(project: dict[str, Any]) -> None:
    import json

    schema = json.loads(PROJECT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(project)]
    assert errors == []


def test_the_schema_check_would_catch_a_broken_project(project: dict[str, Any]) -> None:
    import json

    validator = jsonschema.Draft202012Validator(json.loads(PROJECT_SCHEMA.read_text(encoding="utf-8")))
    assert not validator.is_valid({k: v for k, v in project.items() if k != "name"})  # name is required
    assert not validator.is_valid({**project, "runtime": {"name": "python", "virtualenv": ".venv"}})
    assert not validator.is_valid({**project, "main": 3})


def test_runtime_is_python_in_the_project_virtualenv(project: dict[str, Any]) -> None:
    assert project["name"] == stack_config.PROJECT
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"


def test_main_is_the_stacks_program(project: dict[str, Any]) -> None:
    assert project["main"] == "stacks/"
    program = ROOT / project["main"] / "__main__.py"
    assert program.is_file()
    assert "from mlplatform.program import main" in program.read_text(encoding="utf-8")
    assert project["stackConfigDir"] == "stacks"


def test_project_config_declares_known_keys_only(project: dict[str, Any]) -> None:
    declared = {k if ":" in k else f"{stack_config.PROJECT}:{k}" for k in project.get("config", {})}
    assert declared <= set(stack_config.KNOWN_KEYS)
    # Pulumi requires a declared key without a default on every stack (pkg/workspace/config.go,
    # "Stack 'dev' is missing configuration value"): only the blueprint is, and every stack sets it.
    assert stack_config.project_required(ROOT) == [f"{stack_config.PROJECT}:blueprint"]
    assert stack_config.project_defaults(ROOT) == {}
    for path in STACK_FILES:
        assert stack_config.read(path).blueprint, f"{path.name} names no blueprint; `pulumi up` would refuse it"


def test_there_is_a_stack_per_example_environment() -> None:
    names = {stack_config.read(p).stack for p in STACK_FILES}
    assert {"dev", "staging", "prod"} <= names


@pytest.mark.parametrize("path", STACK_FILES + SAMPLE_FILES, ids=lambda p: p.name)
def test_stack_file_is_consistent(path: Path) -> None:
    assert isinstance(_yaml(path), dict)
    config = stack_config.read(path)
    assert config.unknown_keys() == []
    assert config.blueprint is not None, "names no mlplatform:blueprint"
    blueprint_path = ROOT / config.blueprint
    assert blueprint_path.is_file()
    blueprint = load(blueprint_path)
    assert config.environment in blueprint.environments
    result = blueprint.validate([config.environment])
    assert [str(p) for p in result.errors] == []
    spec = result.specs[config.environment]
    assert config.get("aws:region") == spec.region
    served = {c.model for c in spec.of_kind(ModelEndpoint)}
    for name, model in config.models.items():  # parse_models raises on a missing field
        assert name in served, f"{name} is promoted here but no endpoint serves it"
        assert re.fullmatch(r"[1-9]\d*", model.version)
        assert re.fullmatch(r"[0-9a-f]{64}", model.sha256)
        assert model.uri.startswith("s3://")
        assert re.fullmatch(r"\S+:\S+", model.image)  # pinned by tag or digest


def test_an_unknown_key_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.dev.yaml"
    bad.write_text("config:\n  mlplatform:blueprnt: blueprints/fraud_detection.py\n  aws:regoin: us-east-1\n")
    # The mlplatform namespace is strict; a provider's keys are the provider's to check.
    with pytest.raises(stack_config.MlplatformError) as exc:
        stack_config.read(bad)
    assert str(exc.value) == (
        f"{bad}: unknown key 'mlplatform:blueprnt'; did you mean 'mlplatform:blueprint'? {known_keys_note()}"
    )
    bad.write_text("config:\n  mlplatform:blueprint: blueprints/fraud_detection.py\n  aws:regoin: us-east-1\n")
    assert stack_config.read(bad).unknown_keys() == ["aws:regoin"]


def test_a_malformed_model_entry_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.dev.yaml"
    bad.write_text("config:\n  mlplatform:models:\n    fraud-xgb: {version: '7', uri: 's3://b/k'}\n")
    with pytest.raises(stack_config.MlplatformError, match=r"models.fraud-xgb is missing sha256, image"):
        _ = stack_config.read(bad).models


def _ignored(name: str, patterns: list[str]) -> bool:
    """Whether .gitignore's patterns (the simple forms this project uses) cover a file at the root."""
    import fnmatch

    for pattern in patterns:
        anchored = pattern.startswith("/")
        pattern = pattern.lstrip("/").rstrip("/")
        if fnmatch.fnmatch(name, pattern) or (not anchored and fnmatch.fnmatch(Path(name).name, pattern)):
            return True
        if name.startswith(f"{pattern}/"):
            return True
    return False


def test_gitignore_covers_what_the_readme_walkthroughs_write() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)
    written = sorted({m for block in blocks for m in re.findall(r"(?<![>&0-9-])> ?([\w./-]+)", block)})
    assert {"metrics.json", "model.tar.gz"} <= set(written)
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert [name for name in written if not _ignored(name, patterns)] == []
    assert not _ignored("blueprints/fraud_detection.py", patterns)  # the check can fail
