"""Compare the plans of two environments: resources only in one, and for shared ones the
inputs that differ.

Resources match by type and name with the environment hidden, so fraud-staging-scorer and
fraud-prod-scorer are the same resource. Only what carries the environment because the platform
named it is hidden: `<platform>-<env>`, `<platform>_<env>`, `<platform>/<env>` (names, Glue
databases, SSM paths, log groups), the stack in URNs, and values that are the environment itself
(tags, labels). `/dev/xvda` stays as it is. Map keys are treated like values (a ConfigMap key
`data.recs-dev-monitoring.json`). Inputs holding JSON documents (IAM policies, dashboards) are
compared inside the document, as Pulumi and Terraform show them, not as one changed string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlplatform.plan.model import Plan, PlannedResource
from mlplatform.plan.view import display_type

ENV = "<env>"
STACK = "<stack>"


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
                    "changes": [_change_json(x) for x in c.changes],
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
        out += [f"- {display_type(r.type)} {r.name}" for r in self.only_before]
        out += [f"+ {display_type(r.type)} {r.name}" for r in self.only_after]
        for c in self.changed:
            out.append(f"~ {display_type(c.type)} {c.name}")
            out += [f"    {x.path}: {_show(x.before)} -> {_show(x.after)}" for x in c.changes]
        return out


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(unset)"
    return json.dumps(value, sort_keys=True, default=str)


def _change_json(change: Change) -> dict[str, Any]:
    """A change as JSON; a side where the input is unset has no key ("from" or "to")."""
    out: dict[str, Any] = {"path": change.path}
    if change.before is not _MISSING:
        out["from"] = change.before
    if change.after is not _MISSING:
        out["to"] = change.after
    return out


class _Missing:
    def __repr__(self) -> str:
        return "(unset)"


_MISSING: Any = _Missing()


def normaliser(plan: Plan) -> Callable[[str], str]:
    """The environment hidden in one string of `plan`, where the platform put it."""
    env, stack = plan.environment, plan.stack
    platform = plan.platform or _platform_from_outputs(plan)
    scoped = (
        re.compile(rf"(?<![A-Za-z0-9])({re.escape(platform)})([-_/ ]){re.escape(env)}(?![A-Za-z0-9])")
        if platform
        else None
    )
    urn = re.compile(rf"urn:pulumi:{re.escape(stack)}::")

    def hide(text: str) -> str:
        if text == env:
            return ENV
        text = urn.sub(f"urn:pulumi:{STACK}::", text)
        if scoped is not None:
            text = scoped.sub(lambda m: f"{m.group(1)}{m.group(2)}{ENV}", text)
        return text

    return hide


def prose(plan: Plan) -> Callable[[str], str]:
    """The environment hidden wherever it is a word: for descriptions, which the platform writes
    as sentences ("Versions of fraud-xgb registered in staging")."""
    word = re.compile(rf"(?<![A-Za-z0-9_/.-]){re.escape(plan.environment)}(?![A-Za-z0-9_/.-])")
    scoped = normaliser(plan)
    return lambda text: word.sub(ENV, scoped(text))


def _platform_from_outputs(plan: Plan) -> str:
    value = plan.outputs.get("platform")
    return value if isinstance(value, str) else ""


def normalise(value: Any, hide: Callable[[str], str], words: Callable[[str], str] | None = None) -> Any:
    """`value` with the environment hidden; `words` hides it in descriptions (keys ending in
    'description'), where the platform writes it as a word."""
    if isinstance(value, str):
        document = _document(value)
        return normalise(document, hide, words) if document is not None else hide(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = hide(str(k))
            if words is not None and isinstance(v, str) and str(k).lower().endswith("description"):
                out[key] = words(v)
            else:
                out[key] = normalise(v, hide, words)
        return out
    if isinstance(value, list):
        return [normalise(v, hide, words) for v in value]
    return value


def _document(text: str) -> Any:
    """A JSON object or array held in a string input (a policy, a dashboard body), else None."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested inputs as paths, so a change names the very setting. A list of records with a
    unique identifying field (an IAM statement's Sid, a variant's name) is keyed by it, so an
    inserted statement is one addition, not a shift of all that follow; a list of plain values is
    one value."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{_step(str(k), bool(prefix))}"))
    elif isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        ident = _identity(value)
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{ident}={v[ident]}]" if ident else f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def _step(key: str, nested: bool) -> str:
    """A key as a path step; one with dots or slashes is quoted: labels["mlplatform.io/capacity"]."""
    if not re.fullmatch(r"[A-Za-z0-9_:-]+", key):
        return f"[{json.dumps(key)}]"
    return f".{key}" if nested else key


_IDENTITIES = ("Sid", "sid", "name", "alert", "record", "variantName", "id")


def _identity(items: list[Any]) -> str | None:
    for key in _IDENTITIES:
        values = [v.get(key) if isinstance(v, dict) else None for v in items]
        if all(isinstance(x, str) and x for x in values) and len(set(values)) == len(values):
            return key
    return None


def _keyed(plan: Plan, hide: Callable[[str], str]) -> dict[tuple[str, str], PlannedResource]:
    keyed: dict[tuple[str, str], PlannedResource] = {}
    for r in plan.resources:
        key = (r.type, hide(r.name))
        n = 2
        while key in keyed:  # two resources of one type and name under different parents
            key = (r.type, f"{hide(r.name)}#{n}")
            n += 1
        keyed[key] = r
    return keyed


def diff_plans(before: Plan, after: Plan) -> PlanDiff:
    result = PlanDiff(before, after)
    hide_a, hide_b = normaliser(before), normaliser(after)
    words_a, words_b = prose(before), prose(after)
    left, right = _keyed(before, hide_a), _keyed(after, hide_b)
    result.only_before = sorted((r for k, r in left.items() if k not in right), key=_order)
    result.only_after = sorted((r for k, r in right.items() if k not in left), key=_order)
    for key in sorted(set(left) & set(right), key=lambda k: (k[1], k[0])):
        a, b = left[key], right[key]
        fa = flatten(normalise(a.inputs, hide_a, words_a))
        fb = flatten(normalise(b.inputs, hide_b, words_b))
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


def _order(r: PlannedResource) -> tuple[str, str]:
    return (r.name, r.type)
