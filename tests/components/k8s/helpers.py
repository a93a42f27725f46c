"""Run the Kubernetes build alone for a hand-made platform, under SDK mocks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform import naming
from mlplatform.components import k8s as k8s_components
from mlplatform.context import ProgramContext
from mlplatform.plan.engine import Captured, capture
from mlplatform.plan.model import PlannedResource
from mlplatform.spec.platform import KubernetesCluster, Platform
from mlplatform.stack_config import PromotedModel

SHA = "0" * 64
MODELS = {
    "ranker-model": PromotedModel(
        "7",
        "s3://shop-dev-model-registry-123456789012/models/ranker-model/7/model.tar.gz",
        SHA,
        "ghcr.io/example/ranker:1.0.0",
    ),
}
CONTEXT = {"mlplatform:kubeContext": "shop-dev"}


def platform(*components: Any, **kwargs: Any) -> Platform:
    kwargs.setdefault("kubernetes", KubernetesCluster())
    return Platform(name="shop", team="search team", components=list(components), **kwargs)


def run_k8s(
    p: Platform,
    *,
    env: str = "dev",
    models: dict[str, PromotedModel] | None = None,
    config: dict[str, str] | None = None,
    shared: dict[str, Any] | None = None,
    eks_provider: str | None = None,
    after: Callable[[ProgramContext], object] | None = None,
) -> tuple[Captured, ProgramContext | None]:
    """Build only the Kubernetes side. `eks_provider`: publish a provider for that cluster name
    as the AWS side does. Returns the capture and the context the program used."""
    used: list[ProgramContext] = []

    def program() -> None:
        ctx = ProgramContext(
            platform=p,
            env=env,
            project_root=Path("."),
            blueprint="blueprints/shop.py",
            models=MODELS if models is None else models,
            config=pulumi.Config("mlplatform"),
            names=naming.Names(p.name, env),
            shared=dict(shared or {}),
        )
        if eks_provider:
            ctx.shared["kubernetes_providers"] = {eks_provider: k8s.Provider("eks-cluster", kubeconfig="{}")}
        used.append(ctx)
        k8s_components.build(ctx)
        if after is not None:
            after(ctx)

    captured = capture(program, stack=env, config=CONTEXT if config is None else config)
    return captured, (used[0] if used else None)


def by_name(captured: Captured, name: str) -> PlannedResource:
    found = [r for r in captured.resources if r.name == name]
    assert len(found) == 1, f"{len(found)} named {name}: {sorted(r.name for r in captured.resources)}"
    return found[0]


def of_type(captured: Captured, suffix: str) -> list[PlannedResource]:
    """Resources whose type token ends with `suffix` (e.g. 'apps/v1:Deployment')."""
    return [r for r in captured.resources if r.type.endswith(suffix)]


def container(resource: PlannedResource, name: str, *, init: bool = False) -> dict[str, Any]:
    spec = resource.inputs["spec"]
    pod = spec["predictor"] if resource.type.endswith("InferenceService") else spec["template"]["spec"]
    found = [c for c in pod["initContainers" if init else "containers"] if c["name"] == name]
    assert len(found) == 1, name
    return found[0]
