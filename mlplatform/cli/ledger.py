"""Commands that read the ledger, and unlock: history, status, unlock. They need only names
and never run a blueprint. Both exit 1 when the ledger does not verify; status also on drift
and when a ledger cannot be read."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mlplatform.cli._promotion import AwsProfiles, AwsRoles, Json, ProjectDir, Yes, command, confirm, failure, project
from mlplatform.cli.output import err, out, print_json


@command
def history(
    model: Annotated[str, typer.Argument(help="Model name.")],
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Ledger entries of a model across environments, oldest first, verified against their write-once copies."""
    from mlplatform.promotion.reports import history as do_history

    where = project(project_dir, aws_profile, aws_role, "reader")
    found = do_history(where, model, env)
    entries = [e.to_json() for e in found.entries]
    problems = [*found.problems, *(f"skipped {s}" for s in where.skipped)]
    for problem in found.problems:
        err.print(f"ledger: {problem}", markup=False)
    if as_json:
        if problems:
            message = f"the history of {model} is incomplete or does not verify ({len(problems)} problem(s))"
            print_json({**failure(message, 1, problems=problems), "entries": entries})
        else:
            print_json(entries)
    else:
        if not found.entries:
            out.print(f"no ledger entries for {model}", markup=False)
        for e in found.entries:
            out.print(_line(e), markup=False)
    if problems:
        raise typer.Exit(1)


def _source(e: Any) -> str:
    """Where the version an entry names came from (its MLflow run), or '-'."""
    from mlplatform.promotion.pipeline_steps import describe_lineage, is_pipeline_lineage

    lineage = getattr(e, "lineage", None) if e is not None else None
    if is_pipeline_lineage(lineage):
        return describe_lineage(lineage)  # type: ignore[arg-type]
    return f"{lineage['source']} (run {lineage['run_id']})" if lineage else "-"


def _line(e: Any) -> str:
    extra = []
    if e.from_env:
        extra.append(f"from {e.from_env}")
    if e.previous_version:
        extra.append(f"was {e.previous_version}")
    if e.approval and e.approval.get("by"):
        extra.append(f"approved by {e.approval['by']} in {e.approval.get('env')}")
    if e.reason:
        extra.append(f"reason: {e.reason}")
    if getattr(e, "lineage", None):
        from mlplatform.promotion.mlflow_source import Lineage
        from mlplatform.promotion.pipeline_steps import describe_lineage, is_pipeline_lineage

        if is_pipeline_lineage(e.lineage):
            extra.append(f"by {describe_lineage(e.lineage)}")
        else:
            extra.append(f"from {Lineage.from_json(e.lineage).describe()}")
    tail = f" ({'; '.join(extra)})" if extra else ""
    return f"{e.at}  {e.env:<8} {e.action:<8} {e.model} {e.version}  by {e.by}{tail}"


@command
def status(
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    platform: Annotated[
        str | None,
        typer.Option("--platform", help="Only this platform's stacks (the blueprint's Platform name, e.g. fraud)."),
    ] = None,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Per environment and model: what the stack file deploys, what the ledger says was promoted
    (who, when), and every difference (drift). Exit 1 on drift, a ledger that does not verify, or
    one that cannot be read."""
    from mlplatform.promotion.reports import status as do_status

    where = project(project_dir, aws_profile, aws_role, "reader")
    rows = do_status(where, env, platform)
    for row in rows:
        if row.ledger_error:
            err.print(
                f"error: {row.env} ({row.platform}) {row.model}: ledger not read: {row.ledger_error}", markup=False
            )
        for problem in row.problems:
            err.print(f"ledger: {row.env} {row.model}: {problem}", markup=False)
        for drift in row.drift:
            err.print(f"drift: {row.env} {row.model}: {drift}", markup=False)
    ok = all(r.ok for r in rows) and not where.skipped
    if as_json:
        data: dict[str, dict[str, Any]] = {}
        for row in rows:
            data.setdefault(row.env, {})[row.model] = row.to_json()
        print_json({"ok": ok, "environments": data, "skipped": where.skipped})
    else:
        from rich.table import Table

        table = Table("env", "platform", "model", "stack file", "ledger", "by", "at", "drift", "from", box=None)
        for row in rows:
            table.add_row(
                row.env,
                row.platform,
                row.model,
                row.stack_version or "-",
                row.ledger_version or ("?" if row.ledger_error else "-"),
                row.ledger.by if row.ledger else "-",
                row.ledger.at if row.ledger else "-",
                ", ".join(d.split(":", 1)[0] for d in row.drift) if row.drift else ("?" if row.ledger_error else ""),
                _source(row.ledger),
            )
        out.print(table)
    if not ok:
        raise typer.Exit(1)


@command
def unlock(
    model: Annotated[str, typer.Argument(help="Model whose promotion lock to remove.")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment of the lock.")],
    force: Annotated[
        bool, typer.Option("--force", help="Remove the lock (never one whose holder is alive, here or elsewhere).")
    ] = False,
    yes: Yes = False,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Remove a stale promotion lock left by a process that died."""
    from mlplatform.promotion.reports import unlock as do_unlock

    found = project(project_dir, aws_profile, aws_role, "promoter")
    if force and found.environment(model, env).is_production:
        confirm(f"remove the promotion lock of {model} in {env} (production)?", yes, "unlock")
    removed = do_unlock(found, model, env, force)
    if as_json:
        print_json({"model": model, "env": env, "removed": removed.__dict__ if removed else None})
    elif removed is None:
        out.print(f"{env}: {model} is not locked", markup=False)
    else:
        out.print(f"{env}: removed the lock of {model} held by {removed.describe()}", markup=False)
