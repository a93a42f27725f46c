"""The deploy's check against the ledger: with credentials (a real `pulumi up`), every model
entry of the stack must be exactly the head of the environment's verified ledger (the last
promote or rollback: version, uri, sha256, image). A stack file edited by hand, or an entry for
a ledger that was rewritten, stops the deploy before anything is changed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mlplatform.promotion.aws import Aws
from mlplatform.promotion.errors import PromotionError
from mlplatform.promotion.ledger import Ledger
from mlplatform.promotion.project import Project
from mlplatform.stack_config import MODEL_FIELDS, PromotedModel


def problems(root: Path, env: str, models: Mapping[str, PromotedModel]) -> list[str]:
    """Why each entry does not match the ledger head of `env`; empty when all do."""
    project = Project.find(root)
    found: list[str] = []
    for model, entry in sorted(models.items()):
        aws = Aws(project.environment(model, env))
        try:
            head = Ledger(aws).deployed(model)
        except PromotionError as exc:
            found.append(f"mlplatform:models.{model}: the {env} ledger cannot be verified: {exc}")
            continue
        if head is None:
            found.append(f"mlplatform:models.{model}: the {env} ledger records no promotion of {model}")
            continue
        for name in MODEL_FIELDS:
            if getattr(entry, name) != getattr(head, name):
                found.append(
                    f"mlplatform:models.{model}.{name} is {getattr(entry, name)}, the {env} ledger's head "
                    f"(entry {head.seq}, {head.action} by {head.by}) has {getattr(head, name)}"
                )
    return found
