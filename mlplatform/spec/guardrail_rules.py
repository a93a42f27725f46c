"""Guardrails the blueprint alone decides, checked at validation so that `validate` does not pass
what `plan` rejects.

Each finding carries the guardrail id (mlplatform.policy) it anticipates and is waived the same
way. A mistake the blueprint can fix at no cost (an unpinned image) is an error in every
environment; a warning rule (log retention) is a warning everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlplatform.spec.model_endpoint import ModelEndpoint
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.spec.platform import Platform

Finding = tuple[tuple[Any, ...], str, bool]  # path, message, is_error

MIN_LOG_RETENTION_DAYS = 365  # MLP-LOG-001 (CKV_AWS_338)


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned, as MLP-K8S-010 decides, or None: a digest pins it, or
    a tag on the last path segment (after any registry port) other than 'latest'."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (it means 'latest')"
    if last.rsplit(":", 1)[1] == "latest":
        return "is tagged 'latest'"
    return None


def guardrails(p: Platform, env: str) -> Iterator[Finding]:
    """The guardrail findings `p` decides on its own in `env`, unless waived."""
    def waived(rule: str, component: str | None) -> bool:
        return any(w.rule == rule and w.component in (None, component) for w in p.waivers)

    for i, c in enumerate(p.components):
        if isinstance(c, ModelEndpoint) and c.target == "kubernetes" and c.image:
            why = image_problem(c.image)
            if why and not waived("MLP-K8S-010", c.name):
                yield (
                    ("components", i, "image"),
                    f"image '{c.image}' {why}, so each pod start may run a different build (guardrail "
                    "MLP-K8S-010): pin a version tag or a digest (@sha256:...)",
                    True,
                )
        if (
            isinstance(c, MonitoringStack)
            and c.target == "aws"
            and c.endpoints
            and c.log_retention_days < MIN_LOG_RETENTION_DAYS
            and not waived("MLP-LOG-001", c.name)
        ):
            yield (
                ("components", i, "log_retention_days"),
                f"endpoint logs are kept {c.log_retention_days} days, under the {MIN_LOG_RETENTION_DAYS} days of "
                "guardrail MLP-LOG-001",
                False,
            )
    network = p.network
    if (
        network is not None
        and network.vpc_id is None
        and network.flow_logs_retention_days < MIN_LOG_RETENTION_DAYS
        and not waived("MLP-LOG-001", None)
    ):
        yield (
            ("network", "flow_logs_retention_days"),
            f"VPC flow logs are kept {network.flow_logs_retention_days} days, under the {MIN_LOG_RETENTION_DAYS} "
            "days of guardrail MLP-LOG-001",
            False,
        )
