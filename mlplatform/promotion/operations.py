"""promote and rollback.

The order of a promotion is what makes it all-or-nothing: gates (read-only) -> lock -> gates
again under the lock -> write-once copy and model package in the target (invisible to
deployments) -> stack file (atomic replace) -> ledger entry (write-once copy, then table). If
the ledger write fails the stack file is put back, so a failure before the ledger leaves both
as they were, and a re-run finds the copy already done and completes.

`plan` checks everything and changes nothing; the CLI shows that plan and asks before `run`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from mlplatform.promotion import approvals, artifacts, baselines, gates, lock, packages, stackfile, transfer
from mlplatform.promotion import manifest as manifests
from mlplatform.promotion.aws import Aws
from mlplatform.promotion.checkpoints import checkpoint
from mlplatform.promotion.common import ProgressFactory, no_progress
from mlplatform.promotion.errors import GateFailed, PromotionError
from mlplatform.promotion.identity import Identity, check_claim
from mlplatform.promotion.ledger import DEPLOYING, Entry, Ledger, now
from mlplatform.promotion.project import Environment, Project
from mlplatform.stack_config import PromotedModel
from mlplatform.stack_config import read as read_stack


@dataclass
class Journal:
    """What a command has changed so far: the message after an interruption says it."""

    changed: list[str] = field(default_factory=list)
    rerun: str = ""

    def describe(self) -> str:
        if not self.changed:
            return "nothing was changed"
        return f"{'; '.join(self.changed)}. {self.rerun}".strip()


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
    image: str | None = None
    baseline: str | None = None  # the s3:// prefix of the version's baseline in the target, if it has one
    stack_file: str | None = None
    production: bool = False
    by: str | None = None
    identity: str | None = None
    approval: dict[str, Any] | None = None
    entry: Entry | None = None

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "entry"}
        data["ledger_seq"] = self.entry.seq if self.entry else None
        return data


@dataclass
class Plan:
    """A promotion or rollback whose gates all passed; nothing has changed yet."""

    outcome: Outcome
    run: Callable[[Journal, ProgressFactory], Outcome]


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


def _approval_aws(project: Project, target: Environment, model: str) -> Aws | None:
    name = target.approval_env
    if target.is_production and name is None:
        raise PromotionError(
            f"{target.name} is production, and no environment before it ({', '.join(target.order)}) can hold "
            "the approval it needs"
        )
    return Aws(project.environment(model, name)) if name else None


def plan_promotion(
    project: Project,
    model: str,
    source: str,
    target: str,
    version: str | None = None,
    by: str | None = None,
    reason: str | None = None,
    skip_order: bool = False,
    by_option: str = "--by",
) -> Plan:
    src, dst = project.environment(model, source), project.environment(model, target)
    if src.platform_name != dst.platform_name:
        raise PromotionError(f"{source} and {target} belong to different platforms")
    src_aws, dst_aws = Aws(src), Aws(dst)
    who = dst_aws.identity
    check_claim(by, who, by_option)
    version = version or default_version(src_aws, model)
    outcome = Outcome("promote", model, version, target, from_env=source, production=dst.is_production)
    outcome.stack_file, outcome.by, outcome.identity = str(dst.stack_path), who.person, who.arn
    ledger = Ledger(dst_aws)
    if _already(dst, ledger, model, version):
        outcome.already = True
        return Plan(outcome, lambda _journal, _progress: outcome)
    approval_aws = _approval_aws(project, dst, model)

    def check() -> tuple[manifests.Manifest, gates.GateReport, approvals.Decision | None]:
        report = gates.GateReport()
        failure = gates.order_failure(dst.order, source, target, skip_order, reason)
        report.check("order", [failure] if failure else [])
        manifest, failures = gates.check_artifact(src_aws, model, version)
        if manifest is not None:
            problem = manifests.image_problem(manifest.image)
            failures += [f"image gate: {problem}"] if problem and dst.is_production else []
        report.check("version exists and checksum matches", failures)
        if manifest is not None:
            report.check(
                "metrics", gates.metric_failures(manifest.metrics, dst.gates_for(model), target, model, version)
            )
        report.check("no alarm in ALARM", gates.check_alarms(src_aws, model))
        decision = None
        if approval_aws is not None and manifest is not None:
            failures, decision = approvals.gate(approval_aws, target, model, version, manifest, who)
            report.check(f"approved in {approval_aws.env.name} by another person, for these bytes", failures)
        if report.failed:
            raise GateFailed(f"promote {model} {version} {source} -> {target}", report.failed)
        assert manifest is not None
        return manifest, report, decision

    manifest, report, decision = check()
    _fill(outcome, manifest, dst_aws, report, decision)
    outcome.previous_version = _stack_version(dst, model)

    def run(journal: Journal, progress: ProgressFactory) -> Outcome:
        with lock.hold(dst_aws, model, f"promote {model} {version} {source} -> {target}") as held:
            if _already(dst, ledger, model, version):
                outcome.already = True
                return outcome
            current, report, decision = check()  # again, under the lock: nothing changed in between
            _fill(outcome, current, dst_aws, report, decision)
            outcome.previous_version = _stack_version(dst, model)
            held.check()
            _copy_into(src_aws, dst_aws, current, progress)
            if current.baseline:
                baselines.copy(src_aws, dst_aws, model, version, current.baseline)
            journal.changed.append(f"the artifact was copied to {outcome.uri} (deployments do not see it yet)")
            journal.rerun = f"Run `mlplatform promote {model} --from {source} --to {target} --version {version}` again"
            target_manifest = replace(current, promoted_from=source, promoted_at=now())
            target_manifest.model_package_arn = packages.ensure(dst_aws, current, str(outcome.uri))
            manifests.write(dst_aws, target_manifest, adopt_same=True)
            held.check()
            outcome.entry = _record(
                dst,
                dst_aws,
                ledger,
                current,
                str(outcome.uri),
                Entry(
                    action="promote",
                    model=model,
                    version=version,
                    env=target,
                    by=who.person,
                    at=now(),
                    reason=reason or "",
                    from_env=source,
                    previous_version=outcome.previous_version,
                    gates=report.passed,
                    approval=outcome.approval,
                ),
                who,
                journal,
            )
        return outcome

    return Plan(outcome, run)


def _fill(
    outcome: Outcome,
    manifest: manifests.Manifest,
    aws: Aws,
    report: gates.GateReport,
    decision: approvals.Decision | None,
) -> None:
    outcome.gates = report.passed
    outcome.uri = manifest.uri(aws.registry_bucket)
    outcome.sha256, outcome.image = manifest.sha256, manifest.image
    has_baseline = bool(manifest.baseline)
    outcome.baseline = baselines.uri(aws.registry_bucket, manifest.model, manifest.version) if has_baseline else None
    outcome.approval = decision.reference if decision else None


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
    """Plan and run a promotion in one call (the CLI plans, shows, asks, then runs)."""
    plan = plan_promotion(project, model, source, target, version, by, reason, skip_order)
    if dry_run:
        plan.outcome.dry_run = True
        return plan.outcome
    return plan.run(Journal(), progress)


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
        try:
            transfer.copy(
                dst.s3,
                (src.registry_bucket, manifest.key),
                dst.registry_bucket,
                manifest.key,
                manifest.size,
                manifest.part_size,
                dst.encryption_args(),
                advance,
                what,
            )
        except transfer.AlreadyExists as exc:
            raise PromotionError(
                f"{exc}: it does not match {manifest.model} {manifest.version}'s manifest; something other than "
                "mlplatform wrote it: investigate before promoting"
            ) from None
    artifacts.verify(dst.s3, dst.registry_bucket, manifest.key, manifest.digest, what)


def _record(
    env: Environment,
    aws: Aws,
    ledger: Ledger,
    manifest: manifests.Manifest,
    uri: str,
    entry: Entry,
    who: Identity,
    journal: Journal,
) -> Entry:
    """Stack file, then ledger; the stack file is put back if the ledger write fails. The
    entry's artifact fields (checksum, image) and the caller identity are filled in here."""
    entry = replace(
        entry, uri=uri, sha256=manifest.sha256, image=manifest.image, identity=who.arn, lineage=manifest.lineage
    )
    checkpoint("before-stack-file")
    # The baseline of this version, or none: another version's baseline must not stay behind.
    baseline = baselines.uri(aws.registry_bucket, manifest.model, manifest.version) if manifest.baseline else None
    promoted = PromotedModel(entry.version, uri, manifest.sha256, manifest.image, baseline)
    old = stackfile.update(env.stack_path, entry.model, promoted)
    try:
        checkpoint("before-ledger")
        recorded = ledger.append(entry)
    except BaseException:
        stackfile.restore(env.stack_path, old)
        raise
    journal.changed = [
        f"{entry.action} of {entry.model} {entry.version} in {env.name} is recorded (ledger entry "
        f"{recorded.seq}, {env.stack_path.name})"
    ]
    journal.rerun = f"Deploy it with `pulumi up -s {env.stack.stack}`"
    return recorded


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


def plan_rollback(
    project: Project,
    model: str,
    env_name: str,
    to_version: str | None = None,
    by: str | None = None,
    reason: str | None = None,
) -> Plan:
    """Back to the version before the current one (or `to_version`), with the promotion gates
    minus metrics. The alarm gate is not applied: alarms firing are why one rolls back. In
    production the version must still be approved for its bytes; the approver may be the one
    rolling back (a rollback restores what two people already let through)."""
    env = project.environment(model, env_name)
    aws = Aws(env)
    who = aws.identity
    check_claim(by, who)
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
                "to roll back to; pass --version"
            )
        to_version = history[-2]
    elif to_version not in {e.version for e in entries if e.action in DEPLOYING} | {
        e.previous_version for e in entries if e.action in DEPLOYING
    }:
        raise PromotionError(f"{env_name}: {model} {to_version} was never deployed there (see `mlplatform history`)")
    if to_version == current:
        raise PromotionError(f"{env_name}: {model} {to_version} is the current version")
    target = to_version
    outcome = Outcome("rollback", model, target, env_name, previous_version=current, production=env.is_production)
    outcome.stack_file, outcome.by, outcome.identity = str(env.stack_path), who.person, who.arn
    approval_aws = _approval_aws(project, env, model)

    def check() -> tuple[manifests.Manifest, gates.GateReport, approvals.Decision | None]:
        report = gates.GateReport()
        manifest, failures = gates.check_artifact(aws, model, target)
        report.check("version exists and checksum matches", failures)
        decision = None
        if approval_aws is not None and manifest is not None:
            failures, decision = approvals.gate(approval_aws, env_name, model, target, manifest, who, False)
            report.check(f"approved in {approval_aws.env.name}, for these bytes", failures)
        if report.failed:
            raise GateFailed(f"rollback {model} in {env_name} to {target}", report.failed)
        assert manifest is not None
        return manifest, report, decision

    manifest, report, decision = check()
    _fill(outcome, manifest, aws, report, decision)

    def run(journal: Journal, progress: ProgressFactory) -> Outcome:
        with lock.hold(aws, model, f"rollback {model} {current} -> {target} in {env_name}") as held:
            current_manifest, report, decision = check()
            _fill(outcome, current_manifest, aws, report, decision)
            held.check()
            outcome.entry = _record(
                env,
                aws,
                ledger,
                current_manifest,
                str(outcome.uri),
                Entry(
                    action="rollback",
                    model=model,
                    version=target,
                    env=env_name,
                    by=who.person,
                    at=now(),
                    reason=reason or "",
                    previous_version=current,
                    gates=report.passed,
                    approval=outcome.approval,
                ),
                who,
                journal,
            )
        return outcome

    return Plan(outcome, run)


def rollback(
    project: Project,
    model: str,
    env_name: str,
    to_version: str | None = None,
    by: str | None = None,
    reason: str | None = None,
) -> Outcome:
    return plan_rollback(project, model, env_name, to_version, by, reason).run(Journal(), no_progress)
