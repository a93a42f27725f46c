"""Helpers for component tests: run a program (or one component) under Pulumi SDK mocks and
query what it registered."""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlplatform import stack_config
from mlplatform.plan.engine import Captured, capture, run_program
from mlplatform.plan.model import PlannedResource

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "stacks"


def promoted_file(stack: str) -> Path:
    """The sample of stacks/Pulumi.<stack>.yaml once models are promoted there (stacks/samples/):
    the stack files themselves name no model before a promotion."""
    return STACKS / "samples" / f"Pulumi.{stack}-promoted.yaml"


def run_stack(stack: str) -> Captured:
    """The Pulumi program for stacks/Pulumi.<stack>.yaml, with Pulumi.yaml defaults merged."""
    return run_stack_file(STACKS / f"Pulumi.{stack}.yaml")


def run_promoted(stack: str) -> Captured:
    """The Pulumi program for the stack with its sample promoted models (promoted_file)."""
    return run_stack_file(promoted_file(stack))


def run_stack_file(path: Path, models: dict[str, Any] | None = None) -> Captured:
    """The Pulumi program for the stack file at `path` (stack named after the file), with
    Pulumi.yaml defaults merged; `models`, when given, replaces its mlplatform:models."""
    config = stack_config.read(path)
    if models is not None:
        config.values[f"{stack_config.PROJECT}:models"] = models
    stack = config.stack
    defaults = stack_config.project_defaults(ROOT)
    merged = {k: v if isinstance(v, str) else json.dumps(v) for k, v in defaults.items()}
    merged.update(config.as_pulumi_config())
    return run_program(
        STACKS / "__main__.py",
        project=stack_config.PROJECT,
        stack=stack,
        config=merged,
        region=str(config.get("aws:region") or "us-east-1"),
    )


def run(program: Callable[[], object], stack: str = "dev") -> Captured:
    return capture(program, stack=stack)


class Resources:
    """Query helper over captured resources."""

    def __init__(self, captured: Captured) -> None:
        self.captured = captured
        self.all = captured.resources
        self.by_urn = {r.urn: r for r in self.all}

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.all if r.type == type_]

    def named(self, name: str) -> PlannedResource:
        found = [r for r in self.all if r.name == name]
        assert len(found) == 1, f"{len(found)} resources named {name}: {sorted(r.name for r in self.all)}"
        return found[0]

    def one(self, type_: str) -> PlannedResource:
        found = self.of_type(type_)
        assert len(found) == 1, f"{len(found)} of {type_}"
        return found[0]

    def component(self, type_: str, name: str | None = None) -> PlannedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"{len(found)} components {type_} {name}"
        return found[0]

    def children(self, parent: PlannedResource) -> list[PlannedResource]:
        return [r for r in self.all if r.parent == parent.urn]

    def parent_of(self, resource: PlannedResource) -> PlannedResource | None:
        return self.by_urn.get(resource.parent or "")

    def policy(self, resource: PlannedResource, key: str = "policy") -> dict[str, Any]:
        value = resource.inputs[key]
        return json.loads(value) if isinstance(value, str) else value


@functools.cache
def taggable_types() -> frozenset[str]:
    """Type tokens of pulumi-aws resources whose args accept `tags`, read from the SDK itself."""
    found: set[str] = set()
    for module in (
        "s3",
        "kms",
        "dynamodb",
        "ssm",
        "sagemaker",
        "ec2",
        "vpc",
        "eks",
        "iam",
        "cloudwatch",
        "sns",
        "appautoscaling",
        "glue",
    ):
        package = importlib.import_module(f"pulumi_aws.{module}")
        # pulumi_aws modules load lazily, on the first attribute read: read one to load it.
        hasattr(package, "__mlplatform_load__")
        classes = inspect.getmembers(package, inspect.isclass)
        for _, cls in classes:
            init = getattr(cls, "_internal_init", None)
            if init is None:
                continue
            source = inspect.getsource(init)
            token = re.search(r"__init__\(\s*['\"](aws:[^'\"]+)['\"]", source)
            if token and "tags" in inspect.signature(init).parameters:
                found.add(token.group(1))
    return frozenset(found)


def assert_tagged(resources: list[PlannedResource], expected: dict[str, str]) -> int:
    """Every taggable AWS resource carries `expected`; returns how many were checked."""
    taggable = taggable_types()
    checked = 0
    for r in resources:
        if r.type in taggable:
            tags = r.inputs.get("tags") or {}
            missing = {k: v for k, v in expected.items() if tags.get(k) != v}
            assert not missing, f"{r.type} {r.name} lacks tags {missing}"
            checked += 1
    return checked


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["Statement"])


def actions(document: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for s in statements(document):
        a = s.get("Action", [])
        found.extend([a] if isinstance(a, str) else a)
    return found
