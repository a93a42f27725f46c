"""The one Pod Security level every namespace of the platform enforces, on either target.

`restricted`, unless something the platform runs cannot meet it: KServe's storage initializer
(see kserve.py), unless the cluster declares it restricted-compliant. Then `baseline`, reported
by `pulumi up` and the plan; warnings and audit annotations still measure against `restricted`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlplatform.components.k8s import common, kserve
from mlplatform.spec.model_endpoint import ModelEndpoint

if TYPE_CHECKING:
    from mlplatform.context import ProgramContext


def pod_security_level(ctx: ProgramContext) -> tuple[str, str | None]:
    """(level, why it is not `restricted` or None)."""
    served = [
        c
        for c in ctx.platform.of_kind(ModelEndpoint)
        if c.target == "kubernetes" and c.kserve and c.model in ctx.models
    ]
    problem = kserve.storage_initializer_problem(ctx.platform.kubernetes.kserve) if served else None
    return (common.POD_SECURITY_FALLBACK if problem else common.POD_SECURITY_LEVEL), problem
