"""Run the Kubernetes build alone for a hand-made platform, under SDK mocks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from mlplatform import naming
from mlplatform.components import k8s as k8s_components
from mlplatform.context import ProgramContext
from mlplatform.plan.engine import Captured, capture
from mlplatform.plan.model import PlannedResource
from mlplatform.spec.cluster import Irsa
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
# The whole program (AWS side included) deploys only images pinned by digest (mlplatform.admission).
PINNED_MODELS = {name: replace(m, image=f"ghcr.io/example/ranker@sha256:{SHA}") for name, m in MODELS.items()}
CONTEXT = {"mlplatform:kubeContext": "shop-dev"}
ACCOUNT = "123456789012"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mock-key-core-key"
# What the AWS side publishes for the Kubernetes side (PlatformCore's key, the account).
AWS_SHARED = {
    "account_id": ACCOUNT,
    "region": "us-east-1",
    "partition": "aws",
    "kms_key": SimpleNamespace(arn=KEY_ARN),
}


def cluster(**kwargs: Any) -> KubernetesCluster:
    """A declared cluster with IRSA, as most tests need one."""
    kwargs.setdefault("workload_identity", Irsa(oidc_issuer=ISSUER))
    return KubernetesCluster(**kwargs)


def platform(*components: Any, **kwargs: Any) -> Platform:
    kwargs.setdefault("kubernetes", cluster())
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
            shared={**AWS_SHARED, **(shared or {})},
        )
        if eks_provider:
            # As the AWS side publishes an eks TrainingCluster: its provider and its OIDC provider.
            ctx.shared["kubernetes_providers"] = {eks_provider: k8s.Provider("eks-cluster", kubeconfig="{}")}
            oidc = aws.iam.OpenIdConnectProvider(
                "eks-oidc", url=f"https://{ISSUER}", client_id_lists=["sts.amazonaws.com"]
            )
            ctx.shared["training_clusters"] = {eks_provider: SimpleNamespace(oidc=oidc)}
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


def options(captured: Captured, resource: PlannedResource) -> dict[str, Any]:
    """The resource options the engine received (custom timeouts, replacement settings)."""
    return captured.options[resource.urn]


def container(resource: PlannedResource, name: str, *, init: bool = False) -> dict[str, Any]:
    spec = resource.inputs["spec"]
    pod = spec["predictor"] if resource.type.endswith("InferenceService") else spec["template"]["spec"]
    found = [c for c in pod["initContainers" if init else "containers"] if c["name"] == name]
    assert len(found) == 1, name
    return found[0]
