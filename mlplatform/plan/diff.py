"""Compare the plans of two environments: resources only in one, and for shared ones the
inputs that differ. Resources match by type and name with the environment normalised, so
fraud-staging-scorer and fraud-prod-scorer are the same resource."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlplatform.plan.model import Plan, PlannedResource

ENV = "<env>"


@dataclass
class Change:
    path: str
    before: Any
    after: Any


@dataclass
class Changed:
    type: str
    name: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class PlanDiff:
    before: Plan
    after: Plan
    only_before: list[PlannedResource] = field(default_factory=list)
    only_after: list[PlannedResource] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    unchanged: int = 0

    def to_json(self) -> dict[str, Any]:
        def side(plan: Plan) -> dict[str, str]:
            return {"stack": plan.stack, "environment": plan.environment}

        def brief(r: PlannedResource) -> dict[str, str]:
            return {"type": r.type, "name": r.name, "urn": r.urn}

        return {
            "blueprint": self.after.blueprint,
            "from": side(self.before),
            "to": side(self.after),
            "only_in_from": [brief(r) for r in self.only_before],
            "only_in_to": [brief(r) for r in self.only_after],
            "changed": [
                {
                    "type": c.type,
                    "name": c.name,
                    "changes": [{"path": x.path, "from": x.before, "to": x.after} for x in c.changes],
                }
                for c in self.changed
            ],
            "unchanged": self.unchanged,
        }

    def lines(self) -> list[str]:
        a, b = self.before.environment, self.after.environment
        out = [
            f"diff {a} -> {b}: {len(self.only_before)} only in {a}, {len(self.only_after)} only in {b}, "
            f"{len(self.changed)} changed, {self.unchanged} unchanged"
        ]
        out += [f"- {r.type} {r.name}" for r in self.only_before]
        out += [f"+ {r.type} {r.name}" for r in self.only_after]
        for c in self.changed:
            out.append(f"~ {c.type} {c.name}")
            out += [f"    {x.path}: {_show(x.before)} -> {_show(x.after)}" for x in c.changes]
        return out


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(unset)"
    import json

    return json.dumps(value, sort_keys=True, default=str)


class _Missing:
    def __repr__(self) -> str:
        return "(unset)"


_MISSING: Any = _Missing()


def normaliser(env: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(env)}(?![A-Za-z0-9])")


def normalise(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ENV, value)
    if isinstance(value, dict):
        return {k: normalise(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, pattern) for v in value]
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested inputs as dotted paths (lists by index), so a change names the very setting."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def _keyed(plan: Plan) -> dict[tuple[str, str], PlannedResource]:
    pattern = normaliser(plan.environment)
    keyed: dict[tuple[str, str], PlannedResource] = {}
    for r in plan.resources:
        key = (r.type, pattern.sub(ENV, r.name))
        n = 2
        while key in keyed:  # two resources of one type and name under different parents
            key = (r.type, f"{pattern.sub(ENV, r.name)}#{n}")
            n += 1
        keyed[key] = r
    return keyed


def diff_plans(before: Plan, after: Plan) -> PlanDiff:
    result = PlanDiff(before, after)
    left, right = _keyed(before), _keyed(after)
    result.only_before = [r for k, r in left.items() if k not in right]
    result.only_after = [r for k, r in right.items() if k not in left]
    pa, pb = normaliser(before.environment), normaliser(after.environment)
    for key, a in left.items():
        b = right.get(key)
        if b is None:
            continue
        fa, fb = flatten(normalise(a.inputs, pa)), flatten(normalise(b.inputs, pb))
        changes = [
            Change(path, fa.get(path, _MISSING), fb.get(path, _MISSING))
            for path in sorted(set(fa) | set(fb))
            if fa.get(path, _MISSING) != fb.get(path, _MISSING)
        ]
        if changes:
            result.changed.append(Changed(b.type, b.name, changes))
        else:
            result.unchanged += 1
    return result
