"""`mlplatform graph`: components and their dependencies (or every resource) as Mermaid,
Graphviz dot or JSON."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlplatform.cli.output import PLAN_INTERRUPTED, err, print_json, user_errors, write_atomically
from mlplatform.cli.plan import BlueprintArg, EnvOpt, ProjectDirOpt, StackFileOpt, StackOpt, load_plan


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


class GraphLevel(StrEnum):
    component = "component"
    resource = "resource"


@user_errors(interrupted=PLAN_INTERRUPTED)
def graph(
    blueprint: BlueprintArg,
    env: EnvOpt = None,
    stack: StackOpt = None,
    stack_file: StackFileOpt = None,
    level: Annotated[
        GraphLevel,
        typer.Option("--level", "-l", help="component: components and the dependencies between them; resource: all."),
    ] = GraphLevel.component,
    fmt: Annotated[GraphFormat, typer.Option("--format", "-f", help="Output format.")] = GraphFormat.mermaid,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The graph as JSON (the same as --format json).")] = False,
    project_dir: ProjectDirOpt = None,
) -> None:
    """Draw the plan: by default its components and the dependencies between them; with
    --level resource every resource, grouped by component."""
    from mlplatform.errors import MlplatformError
    from mlplatform.plan.graph import build_graph, dot, mermaid, mermaid_warnings

    if as_json and fmt not in (GraphFormat.mermaid, GraphFormat.json):
        raise typer.BadParameter(f"--json prints JSON; it cannot be combined with --format {fmt.value}")
    if as_json:
        fmt = GraphFormat.json
    plan = load_plan(blueprint, env, stack, stack_file, quiet=as_json or output is None, project_dir=project_dir)
    drawn = build_graph(plan, level.value)
    warnings: list[str] = []
    if fmt is GraphFormat.mermaid:
        text = mermaid(drawn)
        warnings = mermaid_warnings(text, len(drawn.edges))
        if warnings and level is GraphLevel.resource:
            warnings.append("the component view (the default) is smaller; or use --format dot")
    elif fmt is GraphFormat.dot:
        text = dot(drawn)
    else:
        import json

        text = json.dumps(drawn.to_json(), indent=2) + "\n"
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        write_atomically(output, text)
    except OSError as exc:
        raise MlplatformError(f"{output}: cannot write: {exc.strerror or exc}") from None
    if as_json:
        print_json({"wrote": str(output), "format": fmt.value, "level": level.value})
    else:
        err.print(f"wrote {output}", markup=False)
