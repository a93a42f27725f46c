"""The plan as a graph: components as (nested) subgraphs, resources as nodes, dependencies
as edges from the resource depended on to the one that depends on it."""

from __future__ import annotations

from mlplatform.plan.model import Plan, PlannedResource
from mlplatform.plan.render import short_type

FORMATS = ("mermaid", "dot")


def _ids(plan: Plan) -> dict[str, str]:
    return {r.urn: f"{'c' if r.is_component else 'r'}{i}" for i, r in enumerate(plan.resources)}


def _children(plan: Plan) -> dict[str | None, list[PlannedResource]]:
    urns = {r.urn for r in plan.resources}
    out: dict[str | None, list[PlannedResource]] = {}
    for r in plan.resources:
        out.setdefault(r.parent if r.parent in urns else None, []).append(r)
    return out


def _edges(plan: Plan, ids: dict[str, str]) -> list[tuple[str, str]]:
    edges = []
    for r in plan.resources:
        for dep in r.dependencies:
            if dep in ids and dep != r.urn and dep != r.parent:
                edges.append((ids[dep], ids[r.urn]))
    return sorted(set(edges), key=lambda e: (int(e[0][1:]), int(e[1][1:])))


def mermaid(plan: Plan) -> str:
    ids, children = _ids(plan), _children(plan)
    lines = ["flowchart LR"]

    def label(r: PlannedResource) -> str:
        return f"{r.name}<br/>{short_type(r.type)}".replace('"', "#quot;")

    def emit(parent: str | None, depth: int) -> None:
        pad = "  " * depth
        for r in children.get(parent, []):
            if r.is_component:
                lines.append(f'{pad}subgraph {ids[r.urn]}["{label(r)}"]')
                emit(r.urn, depth + 1)
                lines.append(f"{pad}end")
            else:
                lines.append(f'{pad}{ids[r.urn]}["{label(r)}"]')
                emit(r.urn, depth)  # children of a custom resource sit beside it

    emit(None, 1)
    lines += [f"  {a} --> {b}" for a, b in _edges(plan, ids)]
    return "\n".join(lines) + "\n"


def dot(plan: Plan) -> str:
    ids, children = _ids(plan), _children(plan)
    lines = [f'digraph "{plan.project}-{plan.stack}" {{', "  rankdir=LR;", "  node [shape=box];"]

    def label(r: PlannedResource) -> str:
        return f"{_quote(r.name)}\\n{short_type(r.type)}"

    def emit(parent: str | None, depth: int) -> None:
        pad = "  " * depth
        for r in children.get(parent, []):
            if r.is_component:
                lines.append(f"{pad}subgraph cluster_{ids[r.urn]} {{")
                lines.append(f'{pad}  label="{label(r)}";')
                lines.append(f'{pad}  {ids[r.urn]} [label="{_quote(r.name)}", shape=folder];')
                emit(r.urn, depth + 1)
                lines.append(f"{pad}}}")
            else:
                lines.append(f'{pad}{ids[r.urn]} [label="{label(r)}"];')
                emit(r.urn, depth)

    emit(None, 1)
    lines += [f"  {a} -> {b};" for a, b in _edges(plan, ids)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def render_graph(plan: Plan, fmt: str) -> str:
    if fmt == "mermaid":
        return mermaid(plan)
    if fmt == "dot":
        return dot(plan)
    raise ValueError(f"unknown graph format {fmt!r}; one of {', '.join(FORMATS)}")
