"""The typer application. Command modules import their heavy dependencies (pulumi, boto3)
inside the command functions, so `mlplatform --help` starts fast."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from mlplatform.cli import cost, diff, features, graph, ledger, plan, promote, sandbox, train, validate


class Group(TyperGroup):
    """The app's click group: under --json, a usage error found while parsing (a missing or
    unknown option, before any command runs) is also a JSON document on stdout, exit 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        from mlplatform.cli.output import USAGE, click_errors, err, failure, json_requested, print_json

        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or not json_requested(argv):
            return super().main(argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        click_exception, usage_error = click_errors()
        try:
            code = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except click_exception as exc:
            text = exc.format_message()  # type: ignore[attr-defined]
            code = USAGE if isinstance(exc, usage_error) else int(exc.exit_code)  # type: ignore[attr-defined]
            err.print(f"error: {text}", markup=False)
            print_json(failure(text, code))
            sys.exit(code)
        except typer.Abort:
            err.print("aborted", markup=False)
            print_json(failure("aborted", 1))
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="mlplatform",
    cls=Group,
    help="Declarative ML platforms on Pulumi: validate, plan, and promote models between environments.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # credentials live nearby
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"mlplatform {version('mlplatform')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("mlplatform (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool | None,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Declarative ML platforms on Pulumi: validate, plan, and promote models between environments."""


app.command()(validate.validate)
app.command()(validate.schema)
app.command()(plan.plan)
app.command()(diff.diff)
app.command()(graph.graph)
app.command()(cost.cost)
app.command("feast-config")(features.feast_config)
app.command()(promote.register)
app.command()(promote.promote)
app.command()(promote.approve)
app.command()(promote.rollback)
app.command()(ledger.history)
app.command()(ledger.status)
app.command()(ledger.unlock)
app.command()(sandbox.sandbox)
app.add_typer(train.train_app, name="train")


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
