"""Adapter between Pulumi CrossGuard (pulumi-policy) and the guardrail rules.

The pack in policies/ is a thin wrapper: it hands each rule and pulumi-policy's classes to
`policies()`. Everything here works on objects shaped like pulumi-policy's
ResourceValidationArgs / StackValidationArgs / PolicyResource, so it is tested without starting
a policy server. Values unknown during preview are left out: a rule sees them as unset where
it reads them, and treats a companion's unknown `bucket` by dependency instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mlplatform.plan.model import PlannedResource
from mlplatform.policy.rules import RULES, Context, Rule

ReportViolation = Callable[[str, str | None], None]

PACK_NAME = "mlplatform-guardrails"


def known(value: Any) -> Any:
    """A plain copy of a props value, without the entries unknown during preview."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in list(value.keys()):
            try:
                item = value[key]
            except Exception as exc:
                if type(exc).__name__ == "UnknownValueError":
                    continue
                raise
            out[str(key)] = known(item)
        return out
    if isinstance(value, list | tuple):
        items = []
        for i in range(len(value)):
            try:
                items.append(known(value[i]))
            except Exception as exc:
                if type(exc).__name__ == "UnknownValueError":
                    continue
                raise
        return items
    return value


def to_planned(args: Any) -> PlannedResource:
    """A ResourceValidationArgs or PolicyResource as the PlannedResource the rules read."""
    parent = getattr(args, "parent", None)
    provider = getattr(args, "provider", None)
    return PlannedResource(
        urn=str(args.urn),
        type=str(args.resource_type),
        name=str(args.name),
        parent=getattr(parent, "urn", None),
        provider=getattr(provider, "urn", None),
        dependencies=sorted({str(d.urn) for d in getattr(args, "dependencies", None) or []}),
        inputs=known(args.props),
        custom=True,
    )


def validate_resource(rule: Rule, args: Any, report: ReportViolation) -> None:
    """Run a resource-local rule on one resource; each finding becomes a violation."""
    resource = to_planned(args)
    for message in rule(resource, Context(resources=[resource])):
        report(f"{rule.id}: {message}", None)


def validate_stack(rule: Rule, args: Any, report: ReportViolation) -> None:
    """Run a rule that needs companion resources (S3) over the whole stack."""
    resources = [to_planned(r) for r in args.resources]
    ctx = Context(resources=resources)
    for resource in resources:
        for message in rule(resource, ctx):
            report(f"{rule.id}: {message}", resource.urn)


def description(rule: Rule) -> str:
    checkov = f" (Checkov {rule.checkov})" if rule.checkov else ""
    return f"{rule.title}{checkov}."


def policies(
    resource_policy: Callable[..., Any],
    stack_policy: Callable[..., Any],
    mandatory: Any,
    advisory: Any,
    rules: Iterable[Rule] | None = None,
) -> list[Any]:
    """One pulumi-policy policy per rule: errors mandatory, warnings advisory. The factories
    are pulumi_policy.ResourceValidationPolicy / StackValidationPolicy (injected for tests)."""
    made = []
    for r in sorted(rules if rules is not None else RULES.values(), key=lambda r: r.id):
        level = mandatory if r.severity == "error" else advisory
        if r.needs_stack:
            made.append(
                stack_policy(
                    name=r.id,
                    description=description(r),
                    validate=_bind(validate_stack, r),
                    enforcement_level=level,
                )
            )
        else:
            made.append(
                resource_policy(
                    name=r.id,
                    description=description(r),
                    validate=_bind(validate_resource, r),
                    enforcement_level=level,
                )
            )
    return made


def _bind(function: Callable[[Rule, Any, ReportViolation], None], r: Rule) -> Callable[[Any, ReportViolation], None]:
    def validate(args: Any, report: ReportViolation) -> None:
        function(r, args, report)

    return validate
