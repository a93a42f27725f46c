"""`mlplatform diff`: how two environments of a blueprint differ."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlplatform.cli.output import PLAN_INTERRUPTED, err, out, print_json, user_errors
from mlplatform.cli.plan import BlueprintArg, JsonOpt, ProjectDirOpt, load_plan


@user_errors(interrupted=PLAN_INTERRUPTED)
def diff(
    blueprint: BlueprintArg,
    from_env: Annotated[str, typer.Option("--from", help="Environment compared from.", show_default=False)],
    to_env: Annotated[str, typer.Option("--to", help="Environment compared to.", show_default=False)],
    from_stack: Annotated[
        str | None, typer.Option("--from-stack", help="Stack for --from, when it differs from the environment.")
    ] = None,
    to_stack: Annotated[
        str | None, typer.Option("--to-stack", help="Stack for --to, when it differs from the environment.")
    ] = None,
    from_stack_file: Annotated[Path | None, typer.Option("--from-stack-file", help="Stack file for --from.")] = None,
    to_stack_file: Annotated[Path | None, typer.Option("--to-stack-file", help="Stack file for --to.")] = None,
    as_json: JsonOpt = False,
    project_dir: ProjectDirOpt = None,
) -> None:
    """Resources only in one environment, and the inputs that differ for shared ones."""
    from mlplatform.plan.diff import diff_plans

    if (from_env, from_stack, from_stack_file) == (to_env, to_stack, to_stack_file):
        raise typer.BadParameter(
            f"--from and --to are both '{from_env}' with the same stack: nothing to compare", param_hint="--to"
        )
    before = load_plan(
        blueprint, from_env, from_stack, from_stack_file, as_json, ("--from-stack", "--from-stack-file"), project_dir
    )
    after = load_plan(
        blueprint, to_env, to_stack, to_stack_file, as_json, ("--to-stack", "--to-stack-file"), project_dir
    )
    for side in (before, after):  # what each plan says, such as a stack of another blueprint
        for note in side.notes:
            err.print(f"note: [{side.environment}] {note}", markup=False)
        for warning in side.warnings:
            err.print(f"warning: [{side.environment}] {warning}", markup=False)
    result = diff_plans(before, after)
    if as_json:
        print_json(result.to_json())
        return
    for line in result.lines():
        out.print(line, markup=False)
