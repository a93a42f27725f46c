"""Pod Security Standards `restricted` over every pod template the platform renders, with the
containers and volumes KServe, Knative and the EKS webhooks add, and one Pod Security level on
every namespace the platform creates, reported when it is not `restricted`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from mlplatform import naming
from mlplatform.context import ProgramContext
from mlplatform.plan.engine import Captured, capture
from mlplatform.program import build
from mlplatform.spec.cluster import KServe, PodIdentity
from mlplatform.spec.model_endpoint import ModelEndpoint, ServingMetrics
from mlplatform.spec.platform import KubernetesCluster, Platform
from mlplatform.spec.training_cluster import TrainingCluster
from tests.components.k8s import manifests
from tests.components.k8s.conftest import STACKS, example
from tests.components.k8s.helpers import PINNED_MODELS, by_name, cluster, platform, run_k8s
from tests.components.k8s.pod_security import admitted_pod, pod_specs, restricted_violations

HARDENED = {
    "name": "c",
    "image": "x:1",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def with_container(**security: Any) -> dict[str, Any]:
    return {"containers": [{**HARDENED, "securityContext": {**HARDENED["securityContext"], **security}}]}


@pytest.mark.parametrize(
    ("pod", "violation"),
    [
        (with_container(privileged=True), "privileged: container c"),
        (with_container(allowPrivilegeEscalation=None), "privilege escalation: container c"),
        (with_container(runAsNonRoot=False), "running as non-root: container c"),
        (with_container(runAsUser=0), "running as non-root user: container c runAsUser 0"),
        (with_container(seccompProfile={"type": "Unconfined"}), "seccomp: container c"),
        (with_container(capabilities={"drop": ["NET_RAW"]}), "capabilities: container c must drop ALL"),
        (with_container(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}), "capabilities: container c adds"),
        ({**with_container(), "hostNetwork": True}, "host namespaces: hostNetwork"),
        ({**with_container(), "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}, "volume types: volume h"),
        ({"containers": [{**HARDENED, "ports": [{"containerPort": 80, "hostPort": 80}]}]}, "host ports: container c"),
    ],
)
def test_the_check_finds_each_restricted_control(pod: dict[str, Any], violation: str) -> None:
    # Kubernetes "Pod Security Standards", restricted (and baseline) policy controls.
    assert restricted_violations(with_container()) == []
    found = restricted_violations(pod)
    assert len(found) == 1 and found[0].startswith(violation), found


def test_pod_level_settings_cover_containers_that_leave_them_unset() -> None:
    # runAsNonRoot and seccompProfile may be set on the pod instead of every container.
    bare = {
        "name": "c",
        "image": "x:1",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    pod = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [bare],
    }
    assert restricted_violations(pod) == []
    assert len(restricted_violations({"containers": [bare]})) == 2


def objects(captured: Captured) -> list[dict[str, Any]]:
    return [manifests.render(r) for r in captured.resources if manifests.is_kubernetes_object(r)]


def admitted(captured: Captured, kserve: KServe, pod_identity: bool = False) -> list[tuple[str, dict[str, Any]]]:
    pods = []
    for m in objects(captured):
        for path, pod in pod_specs(m):
            declared = kserve if m["kind"] == "InferenceService" else None
            pods.append(
                (
                    f"{m['kind']} {m['metadata']['name']} {path}",
                    admitted_pod(pod, kserve=declared, pod_identity=pod_identity),
                )
            )
    return pods


def namespace_levels(captured: Captured) -> dict[str, str]:
    """Enforced level of the platform's own namespaces: serving (no component's) and each
    TrainingCluster's. (Controllers the platform installs, Kueue and Kubeflow Trainer, come with
    namespaces of their own.)"""
    types = {r.urn: r.type for r in captured.resources}
    return {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for r in captured.resources
        if r.type == "kubernetes:core/v1:Namespace"
        and (r.parent is None or types.get(r.parent, "").endswith(":TrainingCluster") or r.parent == captured.stack_urn)
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_pod_of_the_examples_is_restricted_but_an_unpatched_storage_initializer(
    programs: dict[str, Captured], stack: str
) -> None:
    # "Pod Security Standards" (restricted), on each pod as admission sees it: with the storage
    # initializer KServe injects (as the declared ClusterStorageContainer makes it) and the token
    # volume of the declared workload identity.
    ex, captured = example(stack), programs[stack]
    declared = ex.spec.kubernetes
    kserve = declared.kserve
    pods = admitted(captured, kserve, pod_identity=isinstance(declared.workload_identity, PodIdentity))
    kinds = sorted({where.split()[0] for where, _ in pods})
    assert {"Deployment", "StatefulSet", "InferenceService"} <= set(kinds), kinds
    for where, pod in pods:
        found = restricted_violations(pod)
        if where.startswith("InferenceService") and not kserve.restricted_storage_initializer:
            assert found and all("initContainer storage-initializer" in v for v in found), (where, found)
        else:
            assert found == [], (where, found)
    # So every namespace the platform creates enforces one level (baseline while the storage
    # initializer breaks restricted, and says why), and warns and audits restricted.
    level = "restricted" if kserve.restricted_storage_initializer else "baseline"
    levels = namespace_levels(captured)
    assert levels == {ex.prefix: level, f"{ex.prefix}-train": level}
    for m in objects(captured):
        if m["kind"] == "Namespace":
            assert m["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
            assert m["metadata"]["labels"]["pod-security.kubernetes.io/audit"] == "restricted"
    assert captured.outputs["pod_security"]["enforce"] == level
    if level == "baseline":
        assert "kserve#5373" in captured.outputs["pod_security"]["reason"]
        assert any("Pod Security: the platform's namespaces enforce 'baseline'" in w for w in captured.warnings)
    else:
        assert captured.outputs["pod_security"]["reason"] is None
        assert not any("Pod Security" in w for w in captured.warnings)


@pytest.mark.parametrize(
    "kserve",
    [
        KServe(mode="RawDeployment", restricted_storage_initializer=True),
        KServe(knative_features=["kubernetes.podspec-priorityclassname"], restricted_storage_initializer=True),
    ],
    ids=["RawDeployment", "Serverless"],
)
def test_a_restricted_storage_initializer_lets_every_namespace_enforce_restricted(kserve: KServe) -> None:
    metrics = ServingMetrics(port=8080) if kserve.mode == "Serverless" else ServingMetrics()
    ep = ModelEndpoint(name="ranker", model="ranker-model", target="kubernetes", kserve=True, metrics=metrics)
    train = TrainingCluster(name="train", target="kubernetes")
    captured, _ = run_k8s(platform(ep, train, kubernetes=cluster(kserve=kserve)))
    for where, pod in admitted(captured, kserve):
        assert restricted_violations(pod) == [], where
    assert namespace_levels(captured) == {"shop-dev": "restricted", "shop-dev-train": "restricted"}
    assert captured.outputs["pod_security"] == {"enforce": "restricted", "warn": "restricted", "reason": None}
    assert not any("Pod Security" in w for w in captured.warnings)


def test_plain_serving_and_training_pods_with_pod_identity_are_restricted() -> None:
    ep = ModelEndpoint(name="ranker", model="ranker-model", target="kubernetes", gpus=1)
    train = TrainingCluster(name="train", target="kubernetes")
    captured, _ = run_k8s(platform(ep, train, kubernetes=cluster(workload_identity=PodIdentity(cluster_name="c"))))
    pods = admitted(captured, KServe(), pod_identity=True)
    assert pods
    for where, pod in pods:
        assert restricted_violations(pod) == [], where
    assert namespace_levels(captured) == {"shop-dev": "restricted", "shop-dev-train": "restricted"}


def test_the_eks_training_namespace_enforces_the_platforms_level() -> None:
    # One level for every namespace, whichever side creates it: the EKS cluster's training
    # namespace as well as the Kubernetes side's serving namespace.
    eks = TrainingCluster(name="gpu", target="eks")
    ep = ModelEndpoint(
        name="ranker", model="ranker-model", target="kubernetes", kserve=True, metrics=ServingMetrics(port=8080)
    )
    spec = Platform(
        name="shop",
        team="search",
        components=[eks, ep],
        kubernetes=KubernetesCluster(
            training_cluster="gpu", kserve=KServe(knative_features=["kubernetes.podspec-priorityclassname"])
        ),
    )

    def program() -> None:
        build(
            ProgramContext(
                platform=spec,
                env="dev",
                project_root=Path("."),
                blueprint="blueprints/shop.py",
                models=PINNED_MODELS,
                config=pulumi.Config("mlplatform"),
                names=naming.Names("shop", "dev"),
            )
        )

    captured = capture(program, stack="dev")
    serving = by_name(captured, "shop-dev-namespace").inputs["metadata"]["labels"]
    training = by_name(captured, "gpu-namespace").inputs["metadata"]["labels"]
    for labels in (serving, training):
        assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
