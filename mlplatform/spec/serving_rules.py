"""What SageMaker and CloudWatch accept of a serving blueprint, over a platform resolved for one
environment: blue/green rollout steps, and one aws MonitoringStack per endpoint.

Rules yield (path, message) pairs like those of `mlplatform.spec.rules`, which runs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlplatform.spec.model_endpoint import AllAtOnce, Canary, ModelEndpoint
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.spec.platform import Platform

if TYPE_CHECKING:
    from mlplatform.spec.rules import Context

Finding = tuple[tuple[Any, ...], str]


def _at(i: int, *field: Any) -> tuple[Any, ...]:
    return ("components", i, *field)


def sagemaker_rollouts(p: Platform, ctx: Context) -> Iterator[Finding]:
    """What SageMaker's blue/green deployments accept (API Reference, TrafficRoutingConfig):
    CanarySize "must be less than or equal to 50% of the variant's total instance count" and
    LinearStepSize "must be 10-50%" of it; the step is checked at the smallest fleet the
    variant runs (min_instances), rounded up to whole instances. Serverless endpoints take no
    deployment configuration at all."""
    for i, c in enumerate(p.components):
        if not isinstance(c, ModelEndpoint) or c.target != "sagemaker" or isinstance(c.deployment, AllAtOnce):
            continue
        d = c.deployment
        kind = "canary" if isinstance(d, Canary) else "linear"
        if c.serverless is not None:
            yield (
                _at(i, "deployment"),
                f"serverless endpoints have no blue/green {kind} rollout (SageMaker updates them in place); "
                "use AllAtOnce() or instances",
            )
            continue
        percent = d.percent if isinstance(d, Canary) else d.step_percent
        field = "percent" if isinstance(d, Canary) else "step_percent"
        step = -(-c.min_instances * percent // 100)  # instances in one step, rounded up
        if c.min_instances < 2:
            yield (
                _at(i, "deployment"),
                f"a {kind} rollout shifts traffic in steps of at most half the variant's instances, and "
                f"min_instances={c.min_instances} leaves no such step; use AllAtOnce() or min_instances of at "
                "least 2",
            )
        elif 2 * step > c.min_instances:
            smallest = max(p for p in range(1, 51) if 2 * -(-c.min_instances * p // 100) <= c.min_instances)
            yield (
                _at(i, "deployment", field),
                f"{percent}% of {c.min_instances} instances is {step} instance(s) per step, more than half the "
                f"variant (SageMaker allows at most 50%); use {field} of at most {smallest} or more min_instances",
            )


def watched_once(p: Platform, ctx: Context) -> Iterator[Finding]:
    """One aws MonitoringStack per endpoint: its alarms are named after the endpoint, so a second
    stack watching it would create alarms with the same names."""
    seen: dict[str, str] = {}
    endpoints = {c.name for c in p.components if isinstance(c, ModelEndpoint)}
    for i, c in enumerate(p.components):
        if not isinstance(c, MonitoringStack) or c.target != "aws":
            continue
        for j, ref in enumerate(c.endpoints):
            if ref not in endpoints:
                continue  # reported by `references`
            if ref in seen:
                yield (
                    _at(i, "endpoints", j),
                    f"endpoint '{ref}' is already watched by MonitoringStack '{seen[ref]}'; an endpoint's "
                    "CloudWatch alarms are named after it, so one aws MonitoringStack watches it",
                )
            else:
                seen[ref] = c.name


RULES = (sagemaker_rollouts, watched_once)
