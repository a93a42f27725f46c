"""Rich rendering of a plan, in the order a reviewer reads it: the component tree with key
settings and protected resources, the endpoints with the model versions they serve, a count by
resource type, the guardrail findings (said plainly: what blocks, what would block production),
then waivers, opt-outs, the program's warnings, and the verdict.

Types are spelled as the Pulumi CLI shows them, and the order is stable from run to run.
"""

from __future__ import annotations

import re
from collections import Counter

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from mlplatform.plan.model import Plan, PlannedResource, Violation
from mlplatform.plan.settings import key_settings
from mlplatform.plan.view import children, display_type
from mlplatform.policy.rules import is_production


def blocking(plan: Plan) -> list[Violation]:
    """Unwaived errors that fail this plan: any in a production environment, none elsewhere."""
    if not is_production(plan.environment):
        return []
    return [v for v in plan.violations if v.severity == "error" and not v.waived]


def tree(plan: Plan) -> Tree:
    by_parent = children(plan)
    findings: dict[str, list[Violation]] = {}
    for v in plan.violations:
        findings.setdefault(v.urn, []).append(v)
    served = {e["endpoint"]: e for e in plan.endpoints}
    root = Tree(f"[bold]{escape(plan.project)}[/] stack [bold]{escape(plan.stack)}[/] ({escape(plan.environment)})")

    def add(node: Tree, parent: str | None) -> None:
        for r in by_parent.get(parent, []):
            child = node.add(_label(r, findings.get(r.urn, []), served))
            add(child, r.urn)

    add(root, None)
    return root


def _label(r: PlannedResource, found: list[Violation], served: dict[str, dict]) -> str:
    name = f"[bold cyan]{escape(r.name)}[/]" if r.is_component else escape(r.name)
    text = f"{name} [dim]{escape(display_type(r.type))}[/]"
    settings = key_settings(r)
    endpoint = served.get(r.name) if r.is_component and r.type.endswith(":ModelEndpoint") else None
    if endpoint is not None:
        settings = [_serving(endpoint), *settings]
    if settings:
        text += f"  {escape(', '.join(settings))}"
    if r.protect:
        text += "  [magenta]protected[/]"
    for v in found:
        if v.waived:
            text += f"  [dim]{v.rule} waived[/]"
        else:
            colour = "red" if v.severity == "error" else "yellow"
            text += f"  [{colour}]{v.rule}[/]"
    return text


def _serving(endpoint: dict) -> str:
    if endpoint.get("version") is None:
        return f"model {endpoint['model']}: no promoted version, not deployed"
    return f"model {endpoint['model']} version {endpoint['version']}"


def endpoints(plan: Plan) -> list[str]:
    """Each endpoint of the blueprint: the model version, artifact and image it serves here, or
    why it is not deployed."""
    lines = []
    for e in plan.endpoints:
        where = f"{e['endpoint']} ({e['target']})"
        if e.get("version") is None:
            lines.append(
                f"{where}: not deployed, model '{e['model']}' has no promoted version in {plan.environment} "
                "(stack config mlplatform:models; `mlplatform promote` sets it)"
            )
            continue
        lines.append(f"{where}: {e['model']} version {e['version']}, {e['uri']}")
        lines.append(f"  sha256 {e['sha256']}, image {e['image']}")
    return lines


def summary(plan: Plan) -> Table:
    table = Table(title="Resources by type", title_justify="left", show_footer=True)
    counts = Counter(display_type(r.type) for r in plan.resources if not r.is_component)
    table.add_column("type", footer="total")
    table.add_column("count", justify="right", footer=str(sum(counts.values())))
    for type_, count in sorted(counts.items()):
        table.add_row(type_, str(count))
    return table


def protected(plan: Plan) -> list[str]:
    names = sorted(r.name for r in plan.resources if r.protect)
    if not names:
        return []
    return [
        f"protected ({len(names)}): {', '.join(names)}; Pulumi refuses to delete or replace these "
        "(`pulumi state unprotect` first)"
    ]


def findings(plan: Plan) -> list[str]:
    """One line per finding, errors first, waived last: `severity rule resource: message`. Outside
    production an error is said to be one that blocks production only."""
    names = {r.urn: r.name for r in plan.resources}
    order = {"error": 0, "warning": 1}
    production = is_production(plan.environment)
    lines = []
    for v in sorted(plan.violations, key=lambda v: (bool(v.waived), order.get(v.severity, 2), v.rule, v.urn)):
        checkov = f" [{v.checkov}]" if v.checkov else ""
        waived = f" (waived: {v.waived})" if v.waived else ""
        if v.waived:
            severity = f"waived {v.severity}"
        elif v.severity == "error" and not production:
            severity = "error (blocks production only)"
        else:
            severity = v.severity
        lines.append(f"{severity} {v.rule}{checkov} {names.get(v.urn, v.urn)}: {v.message}{waived}")
    return lines


_OPT_OUT_WARNING = re.compile(r"^(\w+) '([^']+)': secure default '([^']+)' is turned off \(opt_out\)$")


def notes(plan: Plan) -> list[str]:
    """The plan's notes, waivers, opt-outs (each once, with the guardrails it trips) and the
    program's other warnings, one line each."""
    lines = [f"note: {n}" for n in plan.notes]
    for w in plan.waivers:
        scope = f" for component '{w['component']}'" if w.get("component") else ""
        lines.append(f"waiver: {w['rule']}{scope}: {w['reason']} ({w['waived']} finding(s) waived)")
    listed = set()
    for o in plan.opt_outs:
        listed.add((o["kind"], o["component"], o["opt_out"]))
        lines.append(f"opt-out: {o['kind']} '{o['component']}' turns off '{o['opt_out']}'")
    for warning in plan.warnings:
        match = _OPT_OUT_WARNING.match(warning)
        if match and match.groups() in listed:
            continue  # the program's own line for an opt-out listed above
        lines.append(f"warning: {warning}")
    return lines


def verdict(plan: Plan) -> str:
    custom = sum(1 for r in plan.resources if not r.is_component)
    components = len(plan.resources) - custom
    errors = sum(1 for v in plan.violations if v.severity == "error" and not v.waived)
    warnings = sum(1 for v in plan.violations if v.severity == "warning" and not v.waived)
    waived = sum(1 for v in plan.violations if v.waived)
    if errors and is_production(plan.environment):
        state = f"{_count(errors, 'error')} {'blocks' if errors == 1 else 'block'} this plan"
    elif errors:
        state = f"{_count(errors, 'error')} that would block production, only reported in {plan.environment}"
    else:
        state = "0 errors"
    return (
        f"Plan: {_count(custom, 'resource')} in {_count(components, 'component')} for stack '{plan.stack}' "
        f"(environment '{plan.environment}', {plan.region or 'no region'}); "
        f"guardrails: {state}, {_count(warnings, 'warning')}, {waived} waived"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def render(plan: Plan) -> RenderableType:
    parts: list[RenderableType] = [tree(plan)]
    served = endpoints(plan)
    if served:
        parts.append("[bold]Endpoints[/]")
        parts.extend(escape(f"  {line}") for line in served)
    parts.append(summary(plan))
    parts.extend(escape(line) for line in protected(plan))
    for line in findings(plan):
        colour = "dim" if line.startswith("waived") else "red" if line.startswith("error") else "yellow"
        parts.append(f"[{colour}]{escape(line)}[/]")
    parts.extend(escape(line) for line in notes(plan))
    parts.append(verdict(plan))
    return Group(*parts)


def print_plan(plan: Plan, console: Console) -> None:
    console.print(render(plan))
