"""Synthetic planned resources for rule tests."""

from __future__ import annotations

from typing import Any

from mlplatform.plan.model import PlannedResource

STACK = "urn:pulumi:prod::mlplatform::pulumi:pulumi:Stack::mlplatform-prod"


def res(
    type_: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    parent: str | None = None,
    deps: list[str] | None = None,
    custom: bool = True,
) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:prod::mlplatform::{type_}::{name}",
        type=type_,
        name=name,
        parent=parent,
        provider=None,
        dependencies=deps or [],
        inputs=inputs or {},
        custom=custom,
    )
