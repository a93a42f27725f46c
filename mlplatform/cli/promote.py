"""Commands that change what an environment holds: register, promote, approve, rollback.
Thin: parse, call mlplatform.promotion, render, set the exit code. boto3, ruamel and the
Automation API are imported inside the library calls, so `--help` is fast.

A promotion or rollback is planned first (every gate checked, nothing changed), the plan is
shown, production asks before anything changes, then it runs; the gates are checked again
under the lock."""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlplatform.cli._promotion import (
    AwsProfiles,
    AwsRoles,
    By,
    Json,
    ProjectDir,
    Reason,
    Yes,
    command,
    confirm,
    progress,
    project,
    track,
)
from mlplatform.cli.output import err, out, print_json

if TYPE_CHECKING:
    from mlplatform.promotion.operations import Outcome, Plan
    from mlplatform.promotion.project import Project

Version = Annotated[str | None, typer.Option("--version", help="Version. Omitted: see the command's help.")]


@command
def register(
    model: Annotated[str, typer.Argument(help="Model name, as in the blueprint's ModelEndpoint(model=...).")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose registry receives it, usually dev.")],
    artifact: Annotated[
        str | None, typer.Option("--artifact", help="Local file to upload, or s3://bucket/key to adopt.")
    ] = None,
    metrics: Annotated[str | None, typer.Option("--metrics", help="JSON file of metric -> number.")] = None,
    from_mlflow: Annotated[
        str | None,
        typer.Option(
            "--from-mlflow",
            help="models:/NAME/VERSION or runs:/RUN_ID/PATH: the artifact, its run's metrics and lineage, from MLflow.",
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="MLflow tracking server. Omitted: MLFLOW_TRACKING_URI.")
    ] = None,
    image: Annotated[
        str | None,
        typer.Option("--image", help="Serving image, pinned by digest (repo@sha256:...). Omitted: the blueprint's."),
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="Version to register. Omitted: next number.")] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="Folder or s3:// prefix with the version's Model Monitor baseline (statistics.json, "
            "constraints.json); promoted with it. Omitted: none (no drift monitoring of this version).",
        ),
    ] = None,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Register a model version: upload (or adopt) the artifact, record its manifest and model package."""
    from pathlib import Path

    from mlplatform.promotion.registry import Submission, load_metrics
    from mlplatform.promotion.registry import register as do_register

    if (artifact is None) == (from_mlflow is None):
        raise typer.BadParameter("give exactly one of --artifact and --from-mlflow", param_hint="--artifact")
    found = project(project_dir, aws_profile, aws_role, "promoter")
    _interrupted_register(model, env, version)
    given = load_metrics(Path(metrics) if metrics else None)
    lineage = None
    with tempfile.TemporaryDirectory(prefix="mlplatform-mlflow-") as workdir:
        if from_mlflow is not None:
            from mlplatform.promotion import mlflow_source

            resolved = mlflow_source.resolve(from_mlflow, mlflow_source.tracking_uri(tracking_uri, None), Path(workdir))
            artifact, lineage = str(resolved.artifact), resolved.lineage.to_json()
            given = {**resolved.lineage.metrics, **given}  # the run's metrics; --metrics adds or overrides
        assert artifact is not None
        submission = Submission(artifact, given, image, version, lineage, baseline)
        done = do_register(found, model, env, submission, progress)
    if as_json:
        print_json(done.to_json())
        return
    m = done.manifest
    out.print(f"registered {model} {m.version} in {env}: {done.uri}", markup=False)
    out.print(f"  sha256 {m.sha256}, {m.size} bytes, image {m.image}", markup=False)
    out.print(f"  model package {m.model_package_arn}; by {m.registered_by}", markup=False)
    if done.baseline:
        out.print(f"  baseline {done.baseline} (statistics.json, constraints.json)", markup=False)


def _interrupted_register(model: str, env: str, version: str | None) -> None:
    """What Ctrl-C leaves during a registration: no version (the manifest and the ledger entry come
    last), perhaps a reserved number and an unused upload; so what to run."""
    from mlplatform.promotion.operations import Journal

    journal = track(Journal())
    journal.changed.append(
        f"{model} was not registered in {env}: no manifest or ledger entry names a new version "
        "(a reserved version number or an unused upload may be left)"
    )
    journal.rerun = (
        "Run the same `mlplatform register` again: it takes the next version number"
        if version is None
        else f"Register again with another --version: {version} may be reserved"
    )


def _interrupted_approval(model: str, env: str, version: str, reject: bool) -> None:
    """What Ctrl-C leaves during an approval: the ledger entry comes last and is what promotion reads."""
    from mlplatform.promotion.operations import Journal

    journal = track(Journal())
    journal.changed.append(
        f"no {'rejection' if reject else 'approval'} of {model} {version} in {env} was recorded in the ledger, "
        "so promotion does not count it (its SageMaker model package may already show the new status)"
    )
    journal.rerun = "Run the same `mlplatform approve` again"


@command
def promote(
    model: Annotated[str, typer.Argument(help="Model name.")],
    from_env: Annotated[str, typer.Option("--from", help="Source environment.")],
    to_env: Annotated[str, typer.Option("--to", help="Target environment.")],
    version: Annotated[
        str | None, typer.Option("--version", help="Version. Omitted: the one the source environment runs.")
    ] = None,
    by: By = None,
    approved_by: Annotated[str | None, typer.Option("--approved-by", hidden=True)] = None,  # old spelling of --by
    reason: Reason = None,
    skip_order: Annotated[
        bool,
        typer.Option("--skip-order", help="Skip an environment (never on the way into production); needs --reason."),
    ] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Run `pulumi up` for the target stack afterwards.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every gate, show the plan, change nothing.")
    ] = False,
    yes: Yes = False,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Promote a model version: gates, lock, server-side copy, stack file, ledger [, pulumi up]."""
    from mlplatform.promotion.operations import Journal, plan_promotion

    _one_spelling("--by", by, "--approved-by", approved_by)
    found = project(project_dir, aws_profile, aws_role, "promoter")
    if apply and not dry_run:
        _preflight(found, model, to_env)
    option = "--by" if by is not None or approved_by is None else "--approved-by"
    plan = plan_promotion(found, model, from_env, to_env, version, by or approved_by, reason, skip_order, option)
    _run(plan, found, apply, dry_run, yes, as_json, track(Journal()))


@command
def rollback(
    model: Annotated[str, typer.Argument(help="Model name.")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment to roll back.")],
    version: Annotated[
        str | None, typer.Option("--version", help="Version. Omitted: the one before the current, per the ledger.")
    ] = None,
    to_version: Annotated[str | None, typer.Option("--to-version", hidden=True)] = None,  # old spelling
    reason: Reason = None,
    by: By = None,
    apply: Annotated[bool, typer.Option("--apply", help="Run `pulumi up` for the stack afterwards.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every gate, show the plan, change nothing.")
    ] = False,
    yes: Yes = False,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Roll an environment back to an earlier version from its ledger; recorded as a rollback."""
    from mlplatform.promotion.operations import Journal, plan_rollback

    _one_spelling("--version", version, "--to-version", to_version)
    found = project(project_dir, aws_profile, aws_role, "promoter")
    if apply and not dry_run:
        _preflight(found, model, env)
    plan = plan_rollback(found, model, env, version or to_version, by, reason)
    _run(plan, found, apply, dry_run, yes, as_json, track(Journal()))


def _one_spelling(option: str, value: str | None, old: str, old_value: str | None) -> None:
    """An option and its old spelling (kept working, hidden) given different values: which one was meant?"""
    if value is not None and old_value is not None and value != old_value:
        raise typer.BadParameter(
            f"{option} {value} and {old} {old_value} disagree; {old} is the old spelling of {option}: "
            f"give {option} only",
            param_hint=option,
        )


def _preflight(found: Project, model: str, env: str) -> None:
    """What --apply needs is checked before anything changes."""
    from mlplatform.promotion.apply import preflight

    preflight(found.root, found.environment(model, env).stack.stack)


def _run(plan: Plan, found: Project, apply: bool, dry_run: bool, yes: bool, as_json: bool, journal: Any) -> None:
    outcome = plan.outcome
    if outcome.already:
        _print_already(outcome, as_json)
        return
    if dry_run or outcome.production:  # production shows what changes before it asks
        _show_plan(outcome, apply, dry_run, err if as_json else out)
    if dry_run:
        outcome.dry_run = True
        if as_json:
            print_json(outcome.to_json())
        return
    if outcome.production:
        verb = "promote" if outcome.action == "promote" else "roll back"
        confirm(
            f"{verb} {outcome.model} to {outcome.version} in {outcome.env} (production)?",
            yes,
            f"{verb} {outcome.model}",
        )
    done = plan.run(journal, progress)
    if done.already:  # another promotion of the same version finished while this one waited for the lock
        _print_already(done, as_json)
        return
    applied: dict[str, Any] | None = None
    if apply:
        applied = _apply(found, outcome.env, outcome.model, as_json, journal)
    if as_json:
        data = done.to_json()
        if apply:
            data["apply"] = applied
        print_json(data)
        return
    _print_outcome(done)


def _print_already(outcome: Outcome, as_json: bool) -> None:
    if as_json:
        print_json(outcome.to_json())
    else:
        out.print(f"{outcome.model} {outcome.version} is already in {outcome.env}; nothing to do", markup=False)


def _show_plan(o: Outcome, apply: bool, dry_run: bool, console: Any) -> None:
    where = f"{o.from_env} -> {o.env}" if o.from_env else f"in {o.env}"
    kind = " (production)" if o.production else ""
    verb = "promotion" if o.action == "promote" else "rollback"
    lines = [
        f"{verb} plan: {o.model} {where}{kind}",
        f"  version {o.previous_version or '(none)'} -> {o.version} in {o.stack_file}",
        f"  artifact {o.uri}",
        f"    sha256 {o.sha256}",
        f"  image {o.image}",
    ]
    if o.baseline:
        lines.append(f"  baseline {o.baseline} (statistics.json, constraints.json)")
    if o.approval:
        lines.append(f"  approved in {o.approval['env']} by {o.approval['by']} (ledger entry {o.approval['seq']})")
    lines.append(f"  gates passed: {', '.join(o.gates)}")
    lines.append(f"  by {o.by} ({o.identity})")
    copy = "copy the artifact and its baseline" if o.baseline else "copy the artifact server-side"
    steps = ([copy] if o.action == "promote" else []) + [
        f"set {o.model} to {o.version} in the stack file",
        f"record it in the {o.env} ledger",
    ]
    if apply:
        steps.append(f"run `pulumi up` for {o.env}")
    lines.append(f"  {'would' if dry_run else 'will'}: {'; '.join(steps)}")
    if dry_run:
        lines.append("dry run: nothing was changed")
    for line in lines:
        console.print(line, markup=False)


def _apply(found: Project, env: str, model: str, quiet: bool, journal: Any) -> dict[str, Any]:
    from mlplatform.promotion.apply import pulumi_up

    target = found.environment(model, env)
    journal.rerun = f"`pulumi up -s {target.stack.stack}` was interrupted: run it again to deploy"

    def show(line: str) -> None:
        (err if quiet else out).print(line, markup=False)

    return pulumi_up(found.root, target.stack.stack, show)


def _print_outcome(o: Outcome) -> None:
    verb = "promoted" if o.action == "promote" else "rolled back"
    src = f" {o.from_env} ->" if o.from_env else " in"
    # An environment's first promotion replaces nothing.
    was = f"was {o.previous_version}" if o.previous_version else "first version there"
    out.print(f"{verb} {o.model} {o.version}{src} {o.env} ({was})", markup=False)
    out.print(f"  gates passed: {', '.join(o.gates)}", markup=False)
    out.print(f"  {o.uri} sha256 {o.sha256} verified after copy", markup=False)
    seq = o.entry.seq if o.entry else "?"
    out.print(f"  {o.stack_file} updated; ledger entry {seq}, by {o.by}", markup=False)


@command
def approve(
    model: Annotated[str, typer.Argument(help="Model name.")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose model package is approved.")],
    version: Annotated[str, typer.Option("--version", help="Version to approve.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    by: By = None,
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    yes: Yes = False,
    as_json: Json = False,
    project_dir: ProjectDir = None,
    aws_profile: AwsProfiles = None,
    aws_role: AwsRoles = None,
) -> None:
    """Approve (or --reject) a model version, for its exact bytes and image; recorded in the ledger.

    Runs with an approver's credentials; never runs a blueprint."""
    from mlplatform.promotion.approvals import approve as do_approve

    found = project(project_dir, aws_profile, aws_role, "approver")
    word = "reject" if reject else "approve"
    _interrupted_approval(model, env, version, reject)
    if found.environment(model, env).is_production:
        confirm(f"{word} {model} {version} in {env} (production)?", yes, f"{word} {model}")
    entry = do_approve(found, model, env, version, reason, by, reject)
    if as_json:
        print_json(entry.to_json())
        return
    said = "rejected" if reject else "approved"
    out.print(f"{said} {model} {version} in {env} by {entry.by}: {reason} (ledger entry {entry.seq})", markup=False)
    out.print(f"  for sha256 {entry.sha256} and image {entry.image}", markup=False)
