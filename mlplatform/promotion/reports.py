"""history, status and unlock: the commands that read, and need only names.

None of them runs a blueprint (see `facts`). Both chains of the ledger are verified on every
read: `history` shows the entries as their write-once copies hold them and lists what does not
verify; `status` compares each stack file's model entry (version, uri, sha256, image) with the
ledger's head and calls every difference drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlplatform.promotion import lock
from mlplatform.promotion.aws import Aws
from mlplatform.promotion.errors import PromotionError
from mlplatform.promotion.ledger import DEPLOYING, Chain, Entry, read_chains
from mlplatform.promotion.project import Project
from mlplatform.stack_config import MODEL_FIELDS
from mlplatform.stack_config import read as read_stack


@dataclass
class History:
    entries: list[Entry]
    chains: list[Chain]

    @property
    def problems(self) -> list[str]:
        return [f"{c.env}: {c.name} ledger of {c.model}: {p}" for c in self.chains for p in c.problems]


def history(project: Project, model: str, env_name: str | None = None) -> History:
    """Ledger entries of every environment serving the model, oldest first, both chains."""
    envs = [project.environment(model, env_name)] if env_name else project.environments(model)
    if not envs:
        project.environment(model, "?")  # raises the "no blueprint serves" message
    chains: list[Chain] = []
    for env in envs:
        chains.extend(read_chains(Aws(env), model))
    entries = [e for c in chains for e in c.entries]
    return History(sorted(entries, key=lambda e: (e.at, e.seq)), chains)


@dataclass
class StatusRow:
    env: str
    platform: str
    model: str
    stack: dict[str, str] | None  # the stack file's entry (version, uri, sha256, image)
    ledger: Entry | None = None  # the latest promote or rollback
    ledger_error: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def stack_version(self) -> str | None:
        return self.stack["version"] if self.stack else None

    @property
    def ledger_version(self) -> str | None:
        return self.ledger.version if self.ledger else None

    @property
    def drift(self) -> list[str]:
        """Each way the stack file differs from what the ledger says was promoted."""
        if self.ledger_error:
            return []
        if self.ledger is None:
            return [f"the stack file has {self.stack_version}, the ledger records no promotion"] if self.stack else []
        if self.stack is None:
            return [f"the stack file has no entry, the ledger has {self.ledger.version}"]
        recorded = {f: getattr(self.ledger, f) for f in MODEL_FIELDS}
        return [
            f"{f}: the stack file has {self.stack[f]}, the ledger has {recorded[f]}"
            for f in MODEL_FIELDS
            if self.stack[f] != recorded[f]
        ]

    @property
    def ok(self) -> bool:
        return not (self.drift or self.ledger_error or self.problems)

    def to_json(self) -> dict[str, Any]:
        head = self.ledger
        return {
            "version": self.stack_version,  # what the stack file deploys
            "platform": self.platform,
            "stack": self.stack,
            "ledger_version": self.ledger_version,
            "ledger": {f: getattr(head, f) for f in ("version", "uri", "sha256", "image", "by", "at", "seq")}
            if head
            else None,
            "by": head.by if head else None,
            "at": head.at if head else None,
            "drift": self.drift,
            "ledger_verified": self.ledger_error is None and not self.problems,
            "ledger_error": self.ledger_error,
            "problems": self.problems,
        }


def status(project: Project, env_name: str | None = None, platform: str | None = None) -> list[StatusRow]:
    rows: list[StatusRow] = []
    environments = project.environments(env=env_name)
    if platform is not None:
        known = sorted({e.platform_name for e in environments})
        environments = [e for e in environments if e.platform_name == platform]
        if not environments:
            where = f" for environment '{env_name}'" if env_name else ""
            raise PromotionError(
                f"no stack file in {project.root / 'stacks'} deploys platform '{platform}'{where}; "
                f"platforms: {', '.join(known) or 'none'}"
            )
    for env in environments:
        stack_models = read_stack(env.stack_path).models
        aws: Aws | None = Aws(env)
        failed = ""  # the model whose ledger read failed: one attempt per environment is enough
        for model in sorted(set(stack_models) | set(env.models())):
            entry = stack_models.get(model)
            row = StatusRow(env.name, env.platform_name, model, entry.__dict__.copy() if entry else None)
            try:
                if aws is None:
                    raise PromotionError(f"not tried, as reading it for {failed} failed")
                chains = read_chains(aws, model)
            except PromotionError as exc:
                row.ledger_error = str(exc)
                if aws is not None:
                    aws, failed = None, model
            else:
                row.problems = [p for c in chains for p in c.problems]
                row.ledger = next((e for e in reversed(chains[0].entries) if e.action in DEPLOYING), None)
            rows.append(row)
    if env_name and not rows:
        raise PromotionError(f"no stack file in {project.root / 'stacks'} is for environment '{env_name}'")
    return rows


def unlock(project: Project, model: str, env_name: str, force: bool) -> lock.LockInfo | None:
    env = project.environment(model, env_name)
    return lock.remove(Aws(env), model, force)
