"""promote, rollback, approve, history, status and unlock.

The order of a promotion is what makes it all-or-nothing: gates (read-only) -> lock ->
server-side copy and model package in the target (idempotent, invisible to deployments) ->
stack file (atomic replace) -> ledger entry (conditional put). If the ledger write fails the
stack file is put back, so a failure before the ledger leaves both as they were, and a re-run
finds the copy already done and completes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mlplatform.promotion import artifacts, gates, lock, packages, stackfile
from mlplatform.promotion import manifest as manifests
from mlplatform.promotion.aws import Aws
from mlplatform.promotion.checkpoints import checkpoint
from mlplatform.promotion.common import ProgressFactory, caller_identity, current_user, no_progress
from mlplatform.promotion.errors import GateFailed, PromotionError
from mlplatform.promotion.ledger import DEPLOYING, Entry, Ledger, now
from mlplatform.promotion.project import Environment, Project
from mlplatform.stack_config import PromotedModel
from mlplatform.stack_config import read as read_stack


@dataclass
class Outcome:
    action: str
    model: str
    version: str
    env: str
    from_env: str | None = None
    previous_version: str | None = None
    already: bool = False
    dry_run: bool = False
    gates: list[str] = field(default_factory=list)
    uri: str | None = None
    sha256: str | None = None
    stack_file: str | None = None
    entry: Entry | None = None

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "entry"}
        data["ledger_seq"] = self.entry.seq if self.entry else None
        return data


def _stack_version(env: Environment, model: str) -> str | None:
    found = read_stack(env.stack_path).models.get(model)
    return found.version if found else None


def default_version(aws: Aws, model: str) -> str:
    """What `--version` means when omitted: the version the source environment runs according to
    its ledger, or else (the first environment) the newest registered version."""
    deployed = Ledger(aws).deployed(model)
    if deployed:
        return deployed.version
    for version in reversed(manifests.versions(aws, model)):
        if manifests.read(aws, model, version) is not None:
            return version
    raise PromotionError(f"{aws.env.name}: no version of {model} is registered; run `mlplatform register` first")


def _approval_env(project: Project, target: Environment, model: str) -> Environment | None:
    """Promoting into the last environment (prod) needs approval in the one before it (staging)."""
    order = target.order
    if not target.is_last or len(order) < 2:
        return None
    return project.environment(model, order[-2])


def promote(
    project: Project,
    model: str,
    source: str,
    target: str,
    version: str | None = None,
    by: str | None = None,
    reason: str | None = None,
    skip_order: bool = False,
    dry_run: bool = False,
    progress: ProgressFactory = no_progress,
) -> Outcome:
    src, dst = project.environment(model, source), project.environment(model, target)
    if src.platform.name != dst.platform.name:
        raise PromotionError(f"{source} and {target} belong to different platforms")
    src_aws, dst_aws = Aws(src), Aws(dst)
    version = version or default_version(src_aws, model)
    outcome = Outcome("promote", model, version, target, from_env=source, dry_run=dry_run)
    outcome.stack_file = str(dst.stack_path)
    ledger = Ledger(dst_aws)
    if _already(dst, ledger, model, version):
        outcome.already = True
        return outcome

    report = gates.GateReport()
    failure = gates.order_failure(dst.order, source, target, skip_order, reason)
    report.check("order", [failure] if failure else [])
    manifest, failures = gates.check_artifact(src_aws, model, version)
    report.check("version exists and checksum matches", failures)
    if manifest is not None:
        report.check(
            "metrics",
            gates.metric_failures(manifest.metrics, dst.gates_for(model), target, model, version),
        )
    report.check("no alarm in ALARM", gates.check_alarms(src_aws, model))
    approval = _approval_env(project, dst, model)
    if approval is not None:
        report.check(f"approved in {approval.name}", gates.check_approval(Aws(approval), target, model, version))
    if report.failed:
        raise GateFailed(f"promote {model} {version} {source} -> {target}", report.failed)
    assert manifest is not None
    outcome.gates = report.passed
    outcome.uri = manifest.uri(dst_aws.registry_bucket)
    outcome.sha256 = manifest.sha256
    outcome.previous_version = _stack_version(dst, model)
    if dry_run:
        return outcome

    with lock.hold(dst_aws, model, f"promote {model} {version} {source} -> {target}"):
        if _already(dst, ledger, model, version):
            outcome.already = True
            return outcome
        outcome.previous_version = _stack_version(dst, model)
        _copy_into(src_aws, dst_aws, manifest, progress)
        target_manifest = replace(manifest, promoted_from=source, promoted_at=now())
        target_manifest.model_package_arn = packages.ensure(dst_aws, manifest, outcome.uri)
        manifests.write(dst_aws, target_manifest, exclusive=False)
        outcome.entry = _record(
            dst,
            dst_aws,
            ledger,
            manifest,
            outcome.uri,
            Entry(
                action="promote",
                model=model,
                version=version,
                env=target,
                by=by or current_user(),
                at=now(),
                reason=reason or "",
                from_env=source,
                previous_version=outcome.previous_version,
                gates=report.passed,
            ),
        )
    return outcome


def _already(env: Environment, ledger: Ledger, model: str, version: str) -> bool:
    deployed = ledger.deployed(model)
    return _stack_version(env, model) == version and deployed is not None and deployed.version == version


def _copy_into(src: Aws, dst: Aws, manifest: manifests.Manifest, progress: ProgressFactory) -> None:
    what = f"{dst.env.name}: copying {manifest.model} {manifest.version}"
    try:  # a re-run after an interrupted promotion finds the copy done
        artifacts.verify(dst.s3, dst.registry_bucket, manifest.key, manifest.digest, what)
        return
    except PromotionError:
        pass
    with progress(f"copying {manifest.filename} to {dst.env.name} (server-side)", manifest.size) as advance:
        artifacts.copy(
            dst.s3,
            (src.registry_bucket, manifest.key),
            dst.registry_bucket,
            manifest.key,
            manifest.digest,
            dst.encryption_args(),
            advance,
            what,
            source_client=src.s3,
        )


def _record(env: Environment, aws: Aws, ledger: Ledger, manifest: manifests.Manifest, uri: str, entry: Entry) -> Entry:
    """Stack file, then ledger; the stack file is put back if the ledger write fails. The
    entry's artifact fields (checksum, image) and the caller identity are filled in here."""
    entry = replace(entry, uri=uri, sha256=manifest.sha256, image=manifest.image, identity=caller_identity(aws))
    checkpoint("before-stack-file")
    promoted = PromotedModel(entry.version, uri, manifest.sha256, manifest.image)
    old = stackfile.update(env.stack_path, entry.model, promoted)
    try:
        checkpoint("before-ledger")
        return ledger.append(entry)
    except BaseException:
        stackfile.restore(env.stack_path, old)
        raise


def deployed_stack(entries: list[Entry]) -> list[str]:
    """Versions an environment has run, oldest first, with rolled-back ones removed."""
    stack: list[str] = []
    for entry in entries:
        if entry.action == "promote":
            stack.append(entry.version)
        elif entry.action == "rollback":
            while stack and stack[-1] != entry.version:
                stack.pop()
            if not stack:
                stack.append(entry.version)
    return stack


def rollback(
    project: Project,
    model: str,
    env_name: str,
    to_version: str | None = None,
    by: str | None = None,
    reason: str | None = None,
) -> Outcome:
    """Back to the version before the current one (or `to_version`), with the promotion gates
    minus metrics. The alarm gate is not applied: alarms firing are why one rolls back."""
    env = project.environment(model, env_name)
    aws = Aws(env)
    ledger = Ledger(aws)
    entries = ledger.entries(model)
    history = deployed_stack(entries)
    current = history[-1] if history else _stack_version(env, model)
    last = next((e for e in reversed(entries) if e.action in DEPLOYING), None)
    if to_version is None and len(history) < 2 and last is not None and last.previous_version:
        to_version = last.previous_version  # deployed before the ledger's first promotion
    if to_version is None:
        if len(history) < 2:
            raise PromotionError(
                f"{env_name}: the ledger has no version of {model} before {current or 'the current one'} "
                "to roll back to; pass --to-version"
            )
        to_version = history[-2]
    elif to_version not in {e.version for e in entries if e.action in DEPLOYING} | {
        e.previous_version for e in entries if e.action in DEPLOYING
    }:
        raise PromotionError(f"{env_name}: {model} {to_version} was never deployed there (see `mlplatform history`)")
    if to_version == current:
        raise PromotionError(f"{env_name}: {model} {to_version} is the current version")
    outcome = Outcome("rollback", model, to_version, env_name, previous_version=current)
    outcome.stack_file = str(env.stack_path)
    report = gates.GateReport()
    manifest, failures = gates.check_artifact(aws, model, to_version)
    report.check("version exists and checksum matches", failures)
    approval = _approval_env(project, env, model)
    if approval is not None:
        report.check(f"approved in {approval.name}", gates.check_approval(Aws(approval), env_name, model, to_version))
    if report.failed:
        raise GateFailed(f"rollback {model} in {env_name} to {to_version}", report.failed)
    assert manifest is not None
    outcome.gates = report.passed
    outcome.uri = manifest.uri(aws.registry_bucket)
    outcome.sha256 = manifest.sha256
    with lock.hold(aws, model, f"rollback {model} {current} -> {to_version} in {env_name}"):
        outcome.entry = _record(
            env,
            aws,
            ledger,
            manifest,
            outcome.uri,
            Entry(
                action="rollback",
                model=model,
                version=to_version,
                env=env_name,
                by=by or current_user(),
                at=now(),
                reason=reason or "",
                previous_version=current,
                gates=report.passed,
            ),
        )
    return outcome


def approve(
    project: Project, model: str, env_name: str, version: str, by: str, reason: str, reject: bool = False
) -> Entry:
    env = project.environment(model, env_name)
    aws = Aws(env)
    if manifests.read(aws, model, version) is None:
        raise PromotionError(
            f"{env_name}: {model} version {version} is not in the {env_name} registry; promote it there first"
        )
    status = packages.REJECTED if reject else packages.APPROVED
    packages.set_status(aws, model, version, status, f"{by}: {reason}")
    return Ledger(aws).append(
        Entry(
            action="reject" if reject else "approve",
            model=model,
            version=version,
            env=env_name,
            by=by,
            at=now(),
            reason=reason,
            identity=caller_identity(aws),
        )
    )


def history(project: Project, model: str, env_name: str | None = None) -> list[Entry]:
    """Ledger entries of every environment serving the model, oldest first."""
    envs = [project.environment(model, env_name)] if env_name else project.environments(model)
    if not envs:
        project.environment(model, "?")  # raises the "no blueprint serves" message
    entries: list[Entry] = []
    for env in envs:
        entries.extend(Ledger(Aws(env)).entries(model))
    return sorted(entries, key=lambda e: (e.at, e.seq))


@dataclass
class StatusRow:
    env: str
    platform: str
    model: str
    stack_version: str | None
    ledger_version: str | None
    by: str | None = None
    at: str | None = None
    ledger_error: str | None = None

    @property
    def drift(self) -> str | None:
        if self.ledger_error:
            return None
        if self.ledger_version is None and self.stack_version is not None:
            return f"the stack file has {self.stack_version}, the ledger records no promotion"
        if self.ledger_version != self.stack_version:
            return f"the stack file has {self.stack_version}, the ledger has {self.ledger_version}"
        return None


def status(project: Project, env_name: str | None = None) -> list[StatusRow]:
    rows: list[StatusRow] = []
    for env in project.environments(env=env_name):
        stack_models = read_stack(env.stack_path).models
        ledger: Ledger | None = Ledger(Aws(env))
        for model in sorted(set(stack_models) | set(env.models())):
            row = StatusRow(env.name, env.platform.name, model, getattr(stack_models.get(model), "version", None), None)
            try:
                if ledger is None:
                    raise PromotionError("skipped")
                deployed = ledger.deployed(model)
            except PromotionError as exc:
                row.ledger_error, ledger = str(exc), None  # one failure per environment is enough
            else:
                if deployed:
                    row.ledger_version, row.by, row.at = deployed.version, deployed.by, deployed.at
            rows.append(row)
    if env_name and not rows:
        raise PromotionError(f"no stack file in {project.root / 'stacks'} is for environment '{env_name}'")
    return rows


def unlock(project: Project, model: str, env_name: str, force: bool) -> lock.LockInfo | None:
    env = project.environment(model, env_name)
    return lock.remove(Aws(env), model, force)
