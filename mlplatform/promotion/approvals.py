"""Approvals, bound to content and to a person other than the promoter.

`approve` is run by an approver (the approver role is the only one that may change a model
package's approval status, and the only one that may write the `approval` chain of the ledger).
It checks the bytes in the environment's registry against their manifest first, then records
the approval with what it covers: the artifact's SHA-256 and the image digest.

The approval gate of a production environment accepts a version only if, in the approval
environment (staging before prod):
- the approval chain verifies (nobody rewrote it);
- the latest decision on that version is an approval, not a rejection;
- the approval covers the very sha256 and image being promoted (an artifact or manifest
  replaced after approval does not pass);
- it was made by a person other than the one promoting, and by a session of the approver role
  when the environment publishes it;
- the model package there is Approved too. A package that is Approved without an approval in
  the ledger (created Approved, or set so outside `mlplatform approve`) does not pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlplatform.promotion import gates, packages
from mlplatform.promotion.aws import Aws
from mlplatform.promotion.errors import PromotionError
from mlplatform.promotion.identity import Identity, check_claim
from mlplatform.promotion.ledger import Chain, Entry, Ledger, now
from mlplatform.promotion.manifest import Manifest, image_problem
from mlplatform.promotion.project import Project


@dataclass
class Decision:
    entry: Entry
    reference: dict[str, object]  # what a promotion records about the approval it relied on


def approve(
    project: Project,
    model: str,
    env_name: str,
    version: str,
    reason: str,
    by: str | None = None,
    reject: bool = False,
) -> Entry:
    env = project.environment(model, env_name)
    aws = Aws(env)
    who = aws.identity
    check_claim(by, who)
    manifest, failures = gates.check_artifact(aws, model, version)
    if manifest is None:
        raise PromotionError(
            f"{env_name}: {model} version {version} is not in the {env_name} registry; promote it there first"
        )
    if failures and not reject:
        raise PromotionError(f"{env_name}: cannot approve {model} {version}: {failures[0]}")
    problem = image_problem(manifest.image)
    if problem and not reject:
        raise PromotionError(f"{env_name}: cannot approve {model} {version}: {problem}")
    status = packages.REJECTED if reject else packages.APPROVED
    arn = packages.set_status(aws, model, version, status, f"{who.person}: {reason}")
    return Ledger(aws).append(
        Entry(
            action="reject" if reject else "approve",
            model=model,
            version=version,
            env=env_name,
            by=who.person,
            at=now(),
            reason=reason,
            uri=manifest.uri(aws.registry_bucket),
            sha256=manifest.sha256,
            image=manifest.image,
            identity=who.arn,
            approval={"model_package_arn": arn},
        )
    )


def decisions(chain: Chain, version: str) -> list[Entry]:
    return [e for e in chain.entries if e.version == version]


def gate(
    approval_aws: Aws,
    target: str,
    model: str,
    version: str,
    manifest: Manifest,
    actor: Identity,
    separate_person: bool = True,
) -> tuple[list[str], Decision | None]:
    """Failures of the approval gate (empty when it passes) and the approval relied on."""
    env = approval_aws.env.name
    how = f"an approver runs `mlplatform approve {model} --env {env} --version {version} --reason TEXT`"
    chain = Ledger(approval_aws).chain(model, "approval")
    if chain.altered:
        return [f"approval gate: the approval ledger of {model} in {env} does not verify: {chain.altered[0]}"], None
    found = decisions(chain, version)
    status = packages.status(approval_aws, model, version)
    if not found:
        if status == packages.APPROVED:
            return [
                f"approval gate: {model} {version} is Approved on its model package in {env}, but no approver "
                f"recorded an approval in the {env} ledger; a package created or set Approved outside "
                f"`mlplatform approve` does not count: {how}"
            ], None
        return [f"approval gate: {target} requires {model} {version} to be approved in {env}; {how}"], None
    last = found[-1]
    if last.action == "reject":
        return [
            f"approval gate: {model} {version} was rejected in {env} by {last.by} at {last.at}: {last.reason}"
        ], None
    failures: list[str] = []
    if (last.sha256, last.image) != (manifest.sha256, manifest.image):
        failures.append(
            f"approval gate: the approval of {model} {version} in {env} by {last.by} covers sha256 {last.sha256} "
            f"and image {last.image}; what is being promoted has sha256 {manifest.sha256} and image "
            f"{manifest.image}: the artifact or its manifest changed after approval; {how} again"
        )
    approver = Identity.parse(last.identity) if last.identity else None
    if approver is None:
        failures.append(f"approval gate: the approval of {model} {version} in {env} records no AWS identity")
    elif separate_person and approver.person == actor.person:
        failures.append(
            f"approval gate: {model} {version} was approved in {env} by {approver.person}, who is promoting it: "
            f"{target} needs an approver other than the promoter"
        )
    role = approval_aws.role_arn("approver")
    if approver is not None and role and not approver.is_session_of(role):
        failures.append(
            f"approval gate: the approval of {model} {version} in {env} was recorded by {approver.arn}, "
            f"not by a session of the approver role {role}"
        )
    if status != packages.APPROVED:
        failures.append(
            f"approval gate: {model} {version} is approved in the {env} ledger, but its model package there is "
            f"{status or 'missing'}; {how} again"
        )
    reference = {"env": env, "seq": last.seq, "hash": last.hash, "by": last.by, "identity": last.identity}
    return failures, Decision(last, reference)
