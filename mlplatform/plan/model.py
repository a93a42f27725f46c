"""What a plan is: the resources a program registers, with their inputs, as plain data.

Shape of `mlplatform plan --json` (DESIGN.md). Imports no pulumi, so renderers, policy rules
and diff work on saved plans too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PlannedResource:
    urn: str
    type: str  # e.g. aws:sagemaker/endpoint:Endpoint, or mlplatform:aws:ModelEndpoint for components
    name: str  # logical name
    parent: str | None
    provider: str | None  # provider reference "<urn>::<id>" as the engine gives it
    dependencies: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)  # camelCase wire names
    custom: bool = True  # False for ComponentResources
    protect: bool = False

    @property
    def is_component(self) -> bool:
        return not self.custom

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Violation:
    rule: str
    severity: str  # "error" | "warning"
    urn: str
    message: str
    checkov: str | None = None
    waived: str | None = None  # the waiver's reason, when waived

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    project: str
    stack: str
    environment: str
    blueprint: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # messages the program logged
    region: str = ""
    waivers: list[dict[str, Any]] = field(default_factory=list)  # rule, reason, component, waived (count)
    opt_outs: list[dict[str, str]] = field(default_factory=list)  # component, kind, opt_out
    platform: str = ""  # the blueprint's Platform name: resource names start with <platform>-<env>
    notes: list[str] = field(default_factory=list)  # what the plan itself says (a stack of another blueprint)
    # Each ModelEndpoint of the blueprint and the model version the stack file promotes to it:
    # endpoint, model, target, and version, uri, sha256, image (all None when none is promoted).
    endpoints: list[dict[str, Any]] = field(default_factory=list)

    def by_urn(self) -> dict[str, PlannedResource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def children(self, urn: str | None) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "environment": self.environment,
            "blueprint": self.blueprint,
            "platform": self.platform,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
            "violations": [v.to_json() for v in self.violations],
            "warnings": self.warnings,
            "region": self.region,
            "waivers": self.waivers,
            "opt_outs": self.opt_outs,
            "notes": self.notes,
            "endpoints": self.endpoints,
        }
