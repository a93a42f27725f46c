"""`mlplatform plan`: what `pulumi up` would create, offline, with the guardrail findings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlplatform.cli.output import INVALID, PLAN_INTERRUPTED, err, failure, out, print_json, user_errors

if TYPE_CHECKING:
    from mlplatform.plan.model import Plan, Violation

BlueprintArg = Annotated[Path, typer.Argument(help="Blueprint file.", show_default=False, metavar="BLUEPRINT")]
EnvOpt = Annotated[
    str | None,
    typer.Option("--env", "-e", help="Environment: picks stacks/Pulumi.<ENV>.yaml or the stack for ENV."),
]
StackOpt = Annotated[
    str | None, typer.Option("--stack", "-s", help="Stack name, when it differs from the environment (recs-prod).")
]
StackFileOpt = Annotated[
    Path | None, typer.Option("--stack-file", help="Stack config file to use; BLUEPRINT overrides its blueprint.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
# The same option, with the same words, as the promotion commands'.
ProjectDirOpt = Annotated[
    Path | None,
    typer.Option("--project-dir", help="Project folder (holding Pulumi.yaml). Omitted: found from the current folder."),
]


def load_plan(
    blueprint: Path,
    env: str | None,
    stack: str | None,
    stack_file: Path | None,
    quiet: bool,
    flags: tuple[str, str] = ("--stack", "--stack-file"),
    project_dir: Path | None = None,
) -> Plan:
    """Build the plan, with a spinner on stderr unless output is JSON. `flags` name the options
    that pick a stack, for messages (diff has a pair per side)."""
    from mlplatform.plan.build import build_plan
    from mlplatform.stack_config import find_project_root

    root = find_project_root(project_dir) if project_dir is not None else None
    if env is None and stack is None and stack_file is None:
        raise typer.BadParameter(f"give --env, {flags[0]} or {flags[1]}", param_hint="--env")
    if stack is not None and stack_file is not None:
        raise typer.BadParameter(f"give {flags[0]} or {flags[1]}, not both", param_hint=flags[0])
    what = env or stack or str(stack_file)
    if quiet:
        return build_plan(blueprint, env, stack=stack, stack_file=stack_file, flags=flags, root=root)
    with err.status(f"Planning {blueprint} for {what} (offline, Pulumi SDK mocks)"):
        return build_plan(blueprint, env, stack=stack, stack_file=stack_file, flags=flags, root=root)


@user_errors(interrupted=PLAN_INTERRUPTED)
def plan(
    blueprint: BlueprintArg,
    env: EnvOpt = None,
    stack: StackOpt = None,
    stack_file: StackFileOpt = None,
    as_json: JsonOpt = False,
    project_dir: ProjectDirOpt = None,
) -> None:
    """Show what `pulumi up` would create, offline: no credentials, no Pulumi CLI.

    Unwaived guardrail errors fail the plan (exit 1) in production and are reported elsewhere.
    """
    from mlplatform.plan.render import blocking, print_plan

    result = load_plan(blueprint, env, stack, stack_file, quiet=as_json, project_dir=project_dir)
    failed = blocking(result)
    message = blocked_message(result.environment, failed) if failed else None
    if as_json:
        document = result.to_json()
        if message is not None:
            # The plan, and the failure a script checks for (as every --json failure carries):
            # which rules block, on which resources.
            document["error"] = {
                **failure(message, INVALID)["error"],
                "rules": sorted({v.rule for v in failed}),
                "blocking": [{"rule": v.rule, "urn": v.urn, "message": v.message} for v in failed],
            }
        print_json(document)
    else:
        print_plan(result, out)
    if message is not None:
        err.print(f"error: {message}", markup=False)
        raise typer.Exit(INVALID)


def blocked_message(environment: str, failed: list[Violation]) -> str:
    rules = sorted({v.rule for v in failed})
    return (
        f"{len(failed)} guardrail error(s) block environment '{environment}': {', '.join(rules)}; fix them, "
        "or waive a rule in the blueprint with Platform(waivers=[Waiver(rule=..., reason=...)])"
    )
