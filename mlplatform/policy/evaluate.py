"""Run every rule over a plan's resources, apply the blueprint's waivers, decide the outcome.

Errors fail a plan in production; in other environments they are reported. A waiver (rule id,
reason, optionally one component) turns matching findings into waived ones, which every plan
lists with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlplatform.plan.model import PlannedResource, Violation
from mlplatform.policy.rules import RULES, Context, Rule, dig, is_production

if TYPE_CHECKING:
    from mlplatform.spec.platform import Platform

COMPONENT_TAG = "mlplatform:component"
COMPONENT_LABEL = "mlplatform/component"


@dataclass
class Outcome:
    violations: list[Violation] = field(default_factory=list)  # waived ones included, marked
    waivers: list[dict[str, Any]] = field(default_factory=list)  # rule, reason, component, waived (count)
    opt_outs: list[dict[str, str]] = field(default_factory=list)  # component, kind, opt_out
    env: str = ""

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error" and not v.waived]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "warning" and not v.waived]

    @property
    def waived(self) -> list[Violation]:
        return [v for v in self.violations if v.waived]

    @property
    def blocking(self) -> bool:
        """True when the plan must fail: unwaived errors in a production environment."""
        return bool(self.errors) and is_production(self.env)


def check_resources(
    resources: Sequence[PlannedResource], env: str | None = None, rules: Iterable[Rule] | None = None
) -> list[Violation]:
    """Every finding of `rules` (default: all) over `resources`, in resource order."""
    ctx = Context(env=env, resources=resources)
    by_type: dict[str, list[Rule]] = {}
    for r in rules if rules is not None else RULES.values():
        for t in r.types:
            by_type.setdefault(t, []).append(r)
    found: list[Violation] = []
    for resource in resources:
        for r in by_type.get(resource.type, ()):
            for message in r.check(resource, ctx):
                found.append(Violation(r.id, r.severity, resource.urn, message, r.checkov))
    return found


def evaluate(resources: Sequence[PlannedResource], env: str, platform: Platform | None = None) -> Outcome:
    """Findings with the platform's waivers applied, plus the waivers and opt-outs to list."""
    violations = check_resources(resources, env)
    outcome = Outcome(violations=violations, env=env)
    if platform is None:
        return outcome
    names = [c.name for c in platform.components]
    component_of = ComponentIndex(resources, names)
    for waiver in platform.waivers:
        count = 0
        for v in violations:
            if v.rule != waiver.rule or v.waived:
                continue
            if waiver.component is None or component_of(v.urn) == waiver.component:
                v.waived = waiver.reason
                count += 1
        outcome.waivers.append(
            {"rule": waiver.rule, "reason": waiver.reason, "component": waiver.component, "waived": count}
        )
    for c in platform.components:
        for name in c.opt_out:
            outcome.opt_outs.append({"component": c.name, "kind": c.kind, "opt_out": name})
    return outcome


class ComponentIndex:
    """Which blueprint component a resource belongs to: its (or an ancestor's) component tag
    or label, else the name of the nearest mlplatform component resource above it."""

    def __init__(self, resources: Sequence[PlannedResource], names: Sequence[str]) -> None:
        self.by_urn = {r.urn: r for r in resources}
        self.names = sorted(names, key=len, reverse=True)
        self.cache: dict[str, str | None] = {}

    def __call__(self, urn: str | None) -> str | None:
        if urn is None:
            return None
        if urn not in self.cache:
            self.cache[urn] = None  # guards against a parent cycle
            self.cache[urn] = self._find(urn)
        return self.cache[urn]

    def _find(self, urn: str) -> str | None:
        resource = self.by_urn.get(urn)
        if resource is None:
            return None
        tags = resource.inputs.get("tags")
        labels = dig(resource.inputs, "metadata", "labels")
        for bag, key in ((tags, COMPONENT_TAG), (labels, COMPONENT_LABEL)):
            if isinstance(bag, dict) and bag.get(key) in self.names:
                return str(bag[key])
        if resource.is_component and resource.type.startswith("mlplatform:"):
            for name in self.names:
                if resource.name == name or resource.name.endswith(f"-{name}"):
                    return name
        return self(resource.parent)
