"""Model registry and promotion commands: register, promote, approve, rollback, history,
status, unlock, sandbox. Thin: parse, call mlplatform.promotion, render, set the exit code.
boto3, ruamel and the Automation API are imported inside the library calls, so `--help` is fast."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlplatform.cli.output import err, out, print_json, user_errors

if TYPE_CHECKING:
    from mlplatform.promotion.project import Project

ProjectDir = Annotated[
    Path | None,
    typer.Option("--project-dir", help="Project folder (holding Pulumi.yaml). Omitted: found from the current folder."),
]
AwsProfiles = Annotated[
    list[str] | None,
    typer.Option(
        "--aws-profile",
        help="ENV=PROFILE: AWS profile for an environment (repeatable). "
        "Omitted: mlplatform:awsProfile of its stack file, else boto3's default chain.",
    ),
]
AwsRoles = Annotated[
    list[str] | None,
    typer.Option(
        "--aws-role",
        help="ENV=ROLE_ARN: role to assume for an environment (repeatable). "
        "Omitted: mlplatform:awsRoleArn of its stack file.",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on production.")]


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values or []:
        env, sep, name = value.partition("=")
        if not sep or not env or not name:
            raise typer.BadParameter(f"expected ENV=VALUE, got {value!r}", param_hint=option)
        found[env] = name
    return found


def _project(project_dir: Path | None, profiles: list[str] | None = None, roles: list[str] | None = None) -> Project:
    from mlplatform.promotion.project import Project

    return Project.find(project_dir, _pairs(profiles, "--aws-profile"), _pairs(roles, "--aws-role"))


@contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr when it is a terminal; silent otherwise (pipes, --json, CI)."""
    if not err.is_terminal:
        yield lambda _done: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.advance(task, done)


def _confirm_production(project: Project, model: str, env: str, action: str, yes: bool) -> None:
    if yes:
        return
    if project.environment(model, env).is_last:
        typer.confirm(f"{action} in {env} (production). Continue?", abort=True)


@user_errors
def register(
    model: Annotated[str, typer.Argument(help="Model name, as in the blueprint's ModelEndpoint(model=...).")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose registry receives it, usually dev.")],
    artifact: Annotated[str, typer.Option("--artifact", help="Local file to upload, or s3://bucket/key to adopt.")],
    metrics: Annotated[Path | None, typer.Option("--metrics", help="JSON file of metric -> number.")] = None,
    image: Annotated[
        str | None, typer.Option("--image", help="Serving image URI. Omitted: the endpoint's image in the blueprint.")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="Version to register. Omitted: next number.")] = None,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Register a model version: upload (or adopt) the artifact, record its manifest and model package."""
    from mlplatform.promotion.registry import load_metrics
    from mlplatform.promotion.registry import register as do_register

    project = _project(project_dir, aws_profile, aws_role)
    done = do_register(project, model, env, artifact, load_metrics(metrics), image, version, _progress)
    if as_json:
        print_json(done.to_json())
        return
    m = done.manifest
    out.print(f"registered {model} {m.version} in {env}: {done.uri}", markup=False)
    out.print(f"  sha256 {m.sha256}, {m.size} bytes, image {m.image}", markup=False)
    out.print(f"  model package {m.model_package_arn}", markup=False)


@user_errors
def promote(
    model: Annotated[str, typer.Argument(help="Model name.")],
    from_env: Annotated[str, typer.Option("--from", help="Source environment.")],
    to_env: Annotated[str, typer.Option("--to", help="Target environment.")],
    version: Annotated[
        str | None, typer.Option("--version", help="Version. Omitted: the one the source environment runs.")
    ] = None,
    approved_by: Annotated[str | None, typer.Option("--approved-by", help="Who approves (recorded).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded).")] = None,
    skip_order: Annotated[
        bool, typer.Option("--skip-order", help="Allow skipping an environment; needs --reason.")
    ] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Run `pulumi up` for the target stack afterwards.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check all gates and print what would happen.")] = False,
    yes: Yes = False,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Promote a model version: gates, lock, server-side copy, stack file, ledger [, pulumi up]."""
    from mlplatform.promotion.operations import promote as do_promote

    project = _project(project_dir, aws_profile, aws_role)
    if not dry_run:
        _confirm_production(project, model, to_env, f"promote {model} to {to_env}", yes)
    outcome = do_promote(project, model, from_env, to_env, version, approved_by, reason, skip_order, dry_run, _progress)
    applied: dict[str, Any] | None = None
    if apply and not dry_run:
        applied = _apply(project, to_env, model, outcome.already, as_json)
    if as_json:
        data = outcome.to_json()
        if apply:
            data["apply"] = applied
        print_json(data)
        return
    _print_outcome(outcome)


def _apply(project: Project, env: str, model: str, already: bool, quiet: bool) -> dict[str, Any]:
    from mlplatform.promotion.apply import pulumi_up

    target = project.environment(model, env)

    def show(line: str) -> None:
        (err if quiet else out).print(line, markup=False)

    return pulumi_up(project.root, target.stack.stack, show)


def _print_outcome(outcome: Any) -> None:
    if outcome.already:
        out.print(f"{outcome.model} {outcome.version} is already in {outcome.env}; nothing to do", markup=False)
        return
    gates = ", ".join(outcome.gates)
    if outcome.dry_run:
        out.print(f"dry run: all gates passed ({gates}); nothing was changed. Would:", markup=False)
        out.print(f"  copy {outcome.model} {outcome.version} into {outcome.uri} (server-side)", markup=False)
        out.print(
            f"  set {outcome.model} to {outcome.version} in {outcome.stack_file} (was {outcome.previous_version})",
            markup=False,
        )
        out.print(f"  record '{outcome.action}' in the {outcome.env} ledger", markup=False)
        return
    verb = "promoted" if outcome.action == "promote" else "rolled back"
    src = f" {outcome.from_env} ->" if outcome.from_env else " in"
    out.print(
        f"{verb} {outcome.model} {outcome.version}{src} {outcome.env} (was {outcome.previous_version})", markup=False
    )
    out.print(f"  gates passed: {gates}", markup=False)
    out.print(f"  {outcome.uri} sha256 {outcome.sha256} verified after copy", markup=False)
    seq = outcome.entry.seq if outcome.entry else "?"
    out.print(f"  {outcome.stack_file} updated; ledger entry {seq}", markup=False)


@user_errors
def approve(
    model: Annotated[str, typer.Argument(help="Model name.")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose model package is approved.")],
    version: Annotated[str, typer.Option("--version", help="Version to approve.")],
    by: Annotated[str, typer.Option("--by", help="Who approves (recorded).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    yes: Yes = False,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Approve (or --reject) a model version in an environment; recorded in the ledger."""
    from mlplatform.promotion.operations import approve as do_approve

    project = _project(project_dir, aws_profile, aws_role)
    _confirm_production(project, model, env, f"{'reject' if reject else 'approve'} {model} {version}", yes)
    entry = do_approve(project, model, env, version, by, reason, reject)
    if as_json:
        print_json(entry.to_json())
        return
    word = "rejected" if reject else "approved"
    out.print(f"{word} {model} {version} in {env} by {by}: {reason} (ledger entry {entry.seq})", markup=False)


@user_errors
def rollback(
    model: Annotated[str, typer.Argument(help="Model name.")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment to roll back.")],
    to_version: Annotated[
        str | None, typer.Option("--to-version", help="Version. Omitted: the one before the current, per the ledger.")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who (recorded). Omitted: the current user.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Run `pulumi up` for the stack afterwards.")] = False,
    yes: Yes = False,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Roll an environment back to an earlier version from its ledger; recorded as a rollback."""
    from mlplatform.promotion.operations import rollback as do_rollback

    project = _project(project_dir, aws_profile, aws_role)
    _confirm_production(project, model, env, f"roll back {model}", yes)
    outcome = do_rollback(project, model, env, to_version, by, reason)
    applied = _apply(project, env, model, False, as_json) if apply else None
    if as_json:
        data = outcome.to_json()
        if apply:
            data["apply"] = applied
        print_json(data)
        return
    _print_outcome(outcome)


@user_errors
def history(
    model: Annotated[str, typer.Argument(help="Model name.")],
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Ledger entries of a model across environments, oldest first."""
    from mlplatform.promotion.operations import history as do_history

    entries = do_history(_project(project_dir, aws_profile, aws_role), model, env)
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    if not entries:
        out.print(f"no ledger entries for {model}", markup=False)
    for e in entries:
        extra = []
        if e.from_env:
            extra.append(f"from {e.from_env}")
        if e.previous_version:
            extra.append(f"was {e.previous_version}")
        if e.reason:
            extra.append(f"reason: {e.reason}")
        tail = f" ({'; '.join(extra)})" if extra else ""
        out.print(f"{e.at}  {e.env:<8} {e.action:<8} {e.model} {e.version}  by {e.by}{tail}", markup=False)


@user_errors
def status(
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Model versions per environment (stack file vs ledger), who promoted them, and drift."""
    from mlplatform.promotion.operations import status as do_status

    rows = do_status(_project(project_dir, aws_profile, aws_role), env)
    for row in rows:
        if row.ledger_error and row.ledger_error != "skipped":
            err.print(f"warning: {row.env} ({row.platform}): ledger not read: {row.ledger_error}", markup=False)
        elif row.drift:
            err.print(f"drift: {row.env} {row.model}: {row.drift}", markup=False)
    if as_json:
        data: dict[str, dict[str, str | None]] = {}
        for row in rows:
            data.setdefault(row.env, {})[row.model] = row.stack_version
        print_json(data)
        return
    from rich.table import Table

    table = Table("env", "platform", "model", "stack file", "ledger", "by", "at", "drift", box=None)
    for row in rows:
        table.add_row(
            row.env,
            row.platform,
            row.model,
            row.stack_version or "-",
            row.ledger_version or ("?" if row.ledger_error else "-"),
            row.by or "-",
            row.at or "-",
            "yes" if row.drift else "",
        )
    out.print(table)


@user_errors
def unlock(
    model: Annotated[str, typer.Argument(help="Model whose promotion lock to remove.")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment of the lock.")],
    force: Annotated[bool, typer.Option("--force", help="Remove the lock (never one whose holder runs here).")] = False,
    yes: Yes = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Remove a stale promotion lock left by a process that died."""
    from mlplatform.promotion.operations import unlock as do_unlock

    project = _project(project_dir, aws_profile, aws_role)
    if force:
        _confirm_production(project, model, env, f"remove the promotion lock of {model}", yes)
    removed = do_unlock(project, model, env, force)
    if removed is None:
        out.print(f"{env}: {model} is not locked", markup=False)
    else:
        out.print(f"{env}: removed the lock of {model} held by {removed.describe()}", markup=False)


@user_errors
def sandbox(
    blueprint: Annotated[Path, typer.Argument(help="Blueprint whose environments to create locally.")],
    port: Annotated[int, typer.Option("--port", "-p", help="Port on 127.0.0.1. Omitted: 5000.")] = 5000,
) -> None:
    """Start a local AWS emulator (moto) on 127.0.0.1, seeded like the deployed stacks; Ctrl-C stops it."""
    import os
    import threading

    from mlplatform.promotion import sandbox as sb

    environments = sb.resolved_environments(str(blueprint))
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)
    try:
        server, url = sb.start(port)
    except OSError as exc:
        raise typer.BadParameter(f"cannot listen on 127.0.0.1:{port}: {exc}", param_hint="--port") from None
    try:
        seeded = sb.seed(environments, url)
        for s in seeded:
            out.print(
                f"{s.platform}/{s.env}: bucket {s.registry_bucket}, ledger {s.ledger_table}, "
                f"{len(s.model_package_groups)} model package group(s), {len(s.alarms)} alarm(s) in OK",
                markup=False,
            )
        region = environments[0][1].region
        out.print("\nexport these in another shell, then run mlplatform register/promote/...:", markup=False)
        out.print(f"  export AWS_ENDPOINT_URL={url}", markup=False)
        out.print("  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing", markup=False)
        out.print(f"  export AWS_DEFAULT_REGION={region}", markup=False)
        out.print("\nsandbox running; press Ctrl-C to stop (its state is lost)", markup=False)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            out.print("stopped", markup=False)
    finally:
        server.stop()
