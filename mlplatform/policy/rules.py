"""The guardrail rule type, its registry, and helpers for reading resource inputs.

Rules are plain functions over `PlannedResource`: the offline plan, the CrossGuard pack and the
tests call the very same functions. Imports no pulumi.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlplatform.plan.model import PlannedResource
from mlplatform.spec import rules as spec_rules

Severity = Literal["error", "warning"]


def is_production(env: str | None) -> bool:
    """Errors fail a plan only here; elsewhere they are reported. The same test as validation's."""
    return env is not None and spec_rules.is_production(env.lower())


@dataclass
class Context:
    """What a rule may look at beyond its own resource: the environment and the other
    resources of the same plan (S3 settings live on companion resources in pulumi-aws v7)."""

    env: str | None = None
    resources: Sequence[PlannedResource] = ()
    _by_type: dict[str, list[PlannedResource]] | None = field(default=None, repr=False)

    def of_type(self, *types: str) -> list[PlannedResource]:
        if self._by_type is None:
            index: dict[str, list[PlannedResource]] = {}
            for r in self.resources:
                index.setdefault(r.type, []).append(r)
            self._by_type = index
        return [r for t in types for r in self._by_type.get(t, [])]

    def environment_of(self, resource: PlannedResource) -> str | None:
        """The stack's environment, or the one the resource is tagged with (CrossGuard)."""
        if self.env is not None:
            return self.env
        tags = resource.inputs.get("tags")
        if isinstance(tags, dict) and isinstance(tags.get("mlplatform:environment"), str):
            return str(tags["mlplatform:environment"])
        labels = dig(resource.inputs, "metadata", "labels")
        if isinstance(labels, dict) and isinstance(labels.get("mlplatform/environment"), str):
            return str(labels["mlplatform/environment"])
        return None


Check = Callable[[PlannedResource, Context], list[str]]


@dataclass(frozen=True)
class Rule:
    id: str  # MLP-<AREA>-NNN
    severity: Severity
    types: tuple[str, ...]  # resource type tokens the rule applies to
    title: str  # what it requires, one line (README table, CrossGuard description)
    check: Check  # failure messages, each naming the resource and the fix; [] when it passes
    checkov: str | None = None
    needs_stack: bool = False  # looks at other resources (a CrossGuard stack policy)

    def __call__(self, resource: PlannedResource, ctx: Context | None = None) -> list[str]:
        if resource.type not in self.types:
            return []
        return self.check(resource, ctx or Context(resources=[resource]))


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    severity: Severity,
    types: Iterable[str],
    title: str,
    checkov: str | None = None,
    needs_stack: bool = False,
) -> Callable[[Check], Rule]:
    """Register a check function as a rule; the module-level name becomes the Rule."""

    def register(check: Check) -> Rule:
        if id in RULES:
            raise ValueError(f"rule {id} is registered twice")
        made = Rule(id, severity, tuple(types), title, check, checkov, needs_stack)
        RULES[id] = made
        return made

    return register


# --- reading inputs ---------------------------------------------------------------------


def dig(value: Any, *path: str | int) -> Any:
    """value[path[0]][path[1]]...; None where any step is missing. pulumi-aws v6 gave some
    blocks as one-element lists; a list step with a string key reads its first element."""
    for step in path:
        if isinstance(value, list) and isinstance(step, str):
            value = value[0] if value else None
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int):
            value = value[step] if -len(value) <= step < len(value) else None
        else:
            return None
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def number(value: Any) -> float | None:
    """A numeric input: property values arrive from the engine as floats (2.0), never bools."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def show_number(value: Any) -> str:
    n = number(value)
    if n is None:
        return "none"
    return str(int(n)) if n.is_integer() else str(n)


def policy_document(value: Any) -> dict[str, Any] | None:
    """An IAM/bucket policy given as JSON text or as an object; None if it cannot be read."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def display_name(resource: PlannedResource, *keys: str) -> str:
    """The physical name when the inputs give one, else the logical name."""
    for key in (*keys, "name"):
        value = resource.inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return resource.name
