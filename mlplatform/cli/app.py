"""The typer application. Command modules import their heavy dependencies (pulumi, boto3)
inside the command functions, so `mlplatform --help` starts fast."""

from __future__ import annotations

import sys

import typer

from mlplatform.cli import cost, diff, graph, plan, promote, validate

app = typer.Typer(
    name="mlplatform",
    help="Declarative ML platforms on Pulumi: validate, plan, and promote models between environments.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # credentials live nearby
    add_completion=False,
    rich_markup_mode="rich",
)

app.command()(validate.validate)
app.command()(validate.schema)
app.command()(plan.plan)
app.command()(diff.diff)
app.command()(graph.graph)
app.command()(cost.cost)
app.command()(promote.register)
app.command()(promote.promote)
app.command()(promote.approve)
app.command()(promote.rollback)
app.command()(promote.history)
app.command()(promote.status)
app.command()(promote.unlock)
app.command()(promote.sandbox)


def main() -> None:
    """Console entry point: input and check errors print a message and exit 1, never a traceback."""
    from mlplatform.errors import MlplatformError
    from mlplatform.spec.problems import BlueprintInvalid

    try:
        app()
    except BlueprintInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        sys.exit(1)
    except MlplatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
