"""`mlplatform graph`: components, resources and dependencies as Mermaid or Graphviz dot."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlplatform.cli.output import out, user_errors
from mlplatform.cli.plan import BlueprintArg, EnvOpt, StackFileOpt, StackOpt, load_plan


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


@user_errors
def graph(
    blueprint: BlueprintArg,
    env: EnvOpt = None,
    stack: StackOpt = None,
    stack_file: StackFileOpt = None,
    fmt: Annotated[GraphFormat, typer.Option("--format", "-f", help="Output format.")] = GraphFormat.mermaid,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Draw the plan: components as groups, resources as nodes, dependencies as edges."""
    from mlplatform.plan.graph import render_graph

    text = render_graph(load_plan(blueprint, env, stack, stack_file, quiet=output is None), fmt.value)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}", markup=False)
