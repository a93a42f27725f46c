"""The plan as a graph, in two views, as Mermaid, Graphviz dot or JSON.

- component (the default picture): one node per blueprint component, and one for the platform's
  shared resources (a namespace, a provider) when there are any; an edge from A to B when a
  resource of B depends on a resource of A or deploys through a provider A holds;
- resource: components as (nested) subgraphs with their resources as nodes, shared resources in a
  subgraph of their own (no node floats outside a group), dependencies as edges from the resource
  depended on to the one that depends on it.

Mermaid refuses diagrams over its default limits (mermaid.js.org config schema: maxTextSize
50,000 characters, maxEdges 500); `mermaid_warnings` says when a diagram exceeds them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mlplatform.plan.model import Plan
from mlplatform.plan.view import SHARED, TopLevel, children, display_type, kind_of, provider_urn, sort_key, target_of

FORMATS = ("mermaid", "dot", "json")
LEVELS = ("component", "resource")
MERMAID_MAX_TEXT_SIZE = 50_000
MERMAID_MAX_EDGES = 500


@dataclass
class Node:
    id: str
    name: str
    type: str
    label: str  # two lines: what it is called, what it is
    group: str | None = None  # the subgraph it is drawn in (resource view), None at the top
    subgraph: bool = False  # a component drawn as a group (resource view)
    resources: int = 0  # custom resources inside (component view)


@dataclass
class Graph:
    level: str
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "title": self.title,
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [{"from": a, "to": b} for a, b in self.edges],
        }


def build_graph(plan: Plan, level: str = "component") -> Graph:
    if level == "component":
        return _components(plan)
    if level == "resource":
        return _resources(plan)
    raise ValueError(f"unknown graph level {level!r}; one of {', '.join(LEVELS)}")


def _components(plan: Plan) -> Graph:
    top = TopLevel(plan)
    index = {r.urn: i for i, r in enumerate(plan.resources)}
    graph = Graph("component", f"{plan.project}-{plan.stack}")
    counts: dict[str, int] = {}
    for r in plan.resources:
        if r.custom:
            owner = top(r.urn) or SHARED
            counts[owner] = counts.get(owner, 0) + 1
    ids: dict[str, str] = {SHARED: SHARED}
    for r in sorted((r for r in plan.resources if r.is_component and top(r.urn) == r.urn), key=sort_key):
        ids[r.urn] = f"c{index[r.urn]}"
        n = counts.get(r.urn, 0)
        target = f" ({target_of(r)})" if target_of(r) else ""
        label = f"{r.name}\n{kind_of(r)}{target}, {n} resource{'' if n == 1 else 's'}"
        graph.nodes.append(Node(ids[r.urn], r.name, r.type, label, resources=n))
    if counts.get(SHARED):
        n = counts[SHARED]
        label = f"platform\n{n} shared resource{'' if n == 1 else 's'}"
        graph.nodes.append(Node(SHARED, "platform", SHARED, label, resources=n))
    edges: set[tuple[str, str]] = set()
    for r in plan.resources:
        dependent = top(r.urn)
        provider = provider_urn(r.provider)
        for dep in (*r.dependencies, *([provider] if provider else [])):
            source = top(dep)
            if source in ids and dependent in ids and source != dependent:
                edges.add((ids[str(source)], ids[str(dependent)]))
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    graph.edges = sorted(edges, key=lambda e: (order[e[0]], order[e[1]]))
    return graph


def _resources(plan: Plan) -> Graph:
    ids = {r.urn: f"{'c' if r.is_component else 'r'}{i}" for i, r in enumerate(plan.resources)}
    by_parent = children(plan)
    graph = Graph("resource", f"{plan.project}-{plan.stack}")
    shared = [r for r in by_parent.get(None, []) if r.custom]

    def add(parent: str | None, group: str | None) -> None:
        for r in by_parent.get(parent, []):
            if parent is None and r.custom:
                continue  # drawn in the shared group
            label = f"{r.name}\n{display_type(r.type)}"
            if r.is_component:
                graph.nodes.append(Node(ids[r.urn], r.name, r.type, label, group, subgraph=True))
                add(r.urn, ids[r.urn])
            else:
                graph.nodes.append(Node(ids[r.urn], r.name, r.type, label, group))
                add(r.urn, group)  # children of a custom resource sit beside it

    add(None, None)
    if shared:
        graph.nodes.append(Node(SHARED, "platform", SHARED, "platform\nshared resources", subgraph=True))
        for r in shared:
            graph.nodes.append(Node(ids[r.urn], r.name, r.type, f"{r.name}\n{display_type(r.type)}", SHARED))
            add(r.urn, SHARED)
    edges = set()
    for r in plan.resources:
        for dep in r.dependencies:
            if dep in ids and dep != r.urn and dep != r.parent:
                edges.add((ids[dep], ids[r.urn]))
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    graph.edges = sorted(edges, key=lambda e: (order[e[0]], order[e[1]]))
    return graph


def mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    members: dict[str | None, list[Node]] = {}
    for n in graph.nodes:
        members.setdefault(n.group, []).append(n)

    def label(n: Node) -> str:
        return n.label.replace('"', "#quot;").replace("\n", "<br/>")

    def emit(group: str | None, depth: int) -> None:
        pad = "  " * depth
        for n in members.get(group, []):
            if n.subgraph:
                lines.append(f'{pad}subgraph {n.id}["{label(n)}"]')
                emit(n.id, depth + 1)
                lines.append(f"{pad}end")
            else:
                lines.append(f'{pad}{n.id}["{label(n)}"]')

    emit(None, 1)
    lines += [f"  {a} --> {b}" for a, b in graph.edges]
    return "\n".join(lines) + "\n"


def dot(graph: Graph) -> str:
    lines = [f'digraph "{_quote(graph.title)}" {{', "  rankdir=LR;", "  node [shape=box];"]
    members: dict[str | None, list[Node]] = {}
    for n in graph.nodes:
        members.setdefault(n.group, []).append(n)

    def label(n: Node) -> str:
        return _quote(n.label).replace("\n", "\\n")

    def emit(group: str | None, depth: int) -> None:
        pad = "  " * depth
        for n in members.get(group, []):
            if n.subgraph:
                lines.append(f"{pad}subgraph cluster_{n.id} {{")
                lines.append(f'{pad}  label="{label(n)}";')
                emit(n.id, depth + 1)
                lines.append(f"{pad}}}")
            else:
                lines.append(f'{pad}{n.id} [label="{label(n)}"];')

    emit(None, 1)
    # An edge to or from a subgraph goes to its cluster's first node (dot has no cluster edges).
    anchor = {n.id: n.id for n in graph.nodes if not n.subgraph}
    for n in graph.nodes:
        if n.subgraph:
            inside = [m.id for m in graph.nodes if m.group == n.id and not m.subgraph]
            if inside:
                anchor[n.id] = inside[0]
    lines += [f"  {anchor[a]} -> {anchor[b]};" for a, b in graph.edges if a in anchor and b in anchor]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def render_graph(plan: Plan, fmt: str, level: str = "component") -> str:
    graph = build_graph(plan, level)
    if fmt == "mermaid":
        return mermaid(graph)
    if fmt == "dot":
        return dot(graph)
    if fmt == "json":
        import json

        return json.dumps(graph.to_json(), indent=2) + "\n"
    raise ValueError(f"unknown graph format {fmt!r}; one of {', '.join(FORMATS)}")


def mermaid_warnings(text: str, edges: int) -> list[str]:
    """What makes a Mermaid renderer refuse the diagram at its default configuration."""
    found = []
    if len(text) > MERMAID_MAX_TEXT_SIZE:
        found.append(
            f"the diagram is {len(text):,} characters, over Mermaid's default maxTextSize of "
            f"{MERMAID_MAX_TEXT_SIZE:,}: renderers show 'Maximum text size in diagram exceeded' unless "
            "configured with a larger maxTextSize"
        )
    if edges > MERMAID_MAX_EDGES:
        found.append(
            f"the diagram has {edges:,} edges, over Mermaid's default maxEdges of {MERMAID_MAX_EDGES}: renderers "
            "fail with 'Too many edges' unless configured with a larger maxEdges"
        )
    return found
