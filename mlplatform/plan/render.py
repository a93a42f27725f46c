"""Rich rendering of a plan: component tree with key settings, summary by type, findings,
waivers, opt-outs and the program's warnings."""

from __future__ import annotations

from collections import Counter

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from mlplatform.plan.model import Plan, PlannedResource, Violation
from mlplatform.plan.settings import key_settings
from mlplatform.policy.rules import is_production


def blocking(plan: Plan) -> list[Violation]:
    """Unwaived errors that fail this plan: any in a production environment, none elsewhere."""
    if not is_production(plan.environment):
        return []
    return [v for v in plan.violations if v.severity == "error" and not v.waived]


def short_type(type_: str) -> str:
    """aws:sagemaker/endpoint:Endpoint -> aws:sagemaker:Endpoint."""
    parts = type_.split(":")
    if len(parts) == 3:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return type_


def tree(plan: Plan) -> Tree:
    by_parent: dict[str | None, list[PlannedResource]] = {}
    urns = {r.urn for r in plan.resources}
    for r in plan.resources:
        parent = r.parent if r.parent in urns else None
        by_parent.setdefault(parent, []).append(r)
    findings: dict[str, list[Violation]] = {}
    for v in plan.violations:
        findings.setdefault(v.urn, []).append(v)
    root = Tree(f"[bold]{escape(plan.project)}[/] stack [bold]{escape(plan.stack)}[/] ({escape(plan.environment)})")

    def add(node: Tree, parent: str | None) -> None:
        for r in by_parent.get(parent, []):
            child = node.add(_label(r, findings.get(r.urn, [])))
            add(child, r.urn)

    add(root, None)
    return root


def _label(r: PlannedResource, found: list[Violation]) -> str:
    name = f"[bold cyan]{escape(r.name)}[/]" if r.is_component else escape(r.name)
    text = f"{name} [dim]{escape(short_type(r.type))}[/]"
    settings = key_settings(r)
    if settings:
        text += f"  {escape(', '.join(settings))}"
    for v in found:
        if v.waived:
            text += f"  [dim]{v.rule} waived[/]"
        else:
            colour = "red" if v.severity == "error" else "yellow"
            text += f"  [{colour}]{v.rule}[/]"
    return text


def summary(plan: Plan) -> Table:
    table = Table(title="Resources by type", title_justify="left", show_footer=True)
    counts = Counter(r.type for r in plan.resources if not r.is_component)
    table.add_column("type", footer="total")
    table.add_column("count", justify="right", footer=str(sum(counts.values())))
    for type_, count in sorted(counts.items()):
        table.add_row(type_, str(count))
    return table


def findings(plan: Plan) -> list[str]:
    """One line per finding, errors first, waived last: `severity rule resource: message`."""
    names = {r.urn: r.name for r in plan.resources}
    order = {"error": 0, "warning": 1}
    lines = []
    for v in sorted(plan.violations, key=lambda v: (bool(v.waived), order.get(v.severity, 2), v.rule)):
        checkov = f" [{v.checkov}]" if v.checkov else ""
        waived = f" (waived: {v.waived})" if v.waived else ""
        severity = "waived " + v.severity if v.waived else v.severity
        lines.append(f"{severity} {v.rule}{checkov} {names.get(v.urn, v.urn)}: {v.message}{waived}")
    return lines


def notes(plan: Plan) -> list[str]:
    """Waivers, opt-outs and the program's warnings, one line each."""
    lines = []
    for w in plan.waivers:
        scope = f" for component '{w['component']}'" if w.get("component") else ""
        lines.append(f"waiver: {w['rule']}{scope}: {w['reason']} ({w['waived']} finding(s) waived)")
    for o in plan.opt_outs:
        lines.append(f"opt-out: {o['kind']} '{o['component']}' turns off '{o['opt_out']}'")
    lines.extend(f"warning: {w}" for w in plan.warnings)
    return lines


def verdict(plan: Plan) -> str:
    custom = sum(1 for r in plan.resources if not r.is_component)
    components = len(plan.resources) - custom
    errors = sum(1 for v in plan.violations if v.severity == "error" and not v.waived)
    warnings = sum(1 for v in plan.violations if v.severity == "warning" and not v.waived)
    waived = sum(1 for v in plan.violations if v.waived)
    return (
        f"Plan: {custom} resources in {components} components for stack '{plan.stack}' "
        f"(environment '{plan.environment}', {plan.region or 'no region'}); "
        f"guardrails: {errors} error(s), {warnings} warning(s), {waived} waived"
    )


def render(plan: Plan) -> RenderableType:
    parts: list[RenderableType] = [tree(plan), summary(plan)]
    for line in findings(plan):
        colour = "dim" if line.startswith("waived") else "red" if line.startswith("error") else "yellow"
        parts.append(f"[{colour}]{escape(line)}[/]")
    parts.extend(escape(line) for line in notes(plan))
    parts.append(verdict(plan))
    return Group(*parts)


def print_plan(plan: Plan, console: Console) -> None:
    console.print(render(plan))
