"""The must-show: every Kubernetes object the example program registers, in every environment,
rendered to a manifest and valid under strict schema validation; every workload hardened."""

from __future__ import annotations

import collections
import re
from typing import Any

import pytest

from mlplatform import stack_config
from mlplatform.plan.engine import Captured
from tests.components.conftest import promoted_file
from tests.components.k8s import manifests
from tests.components.k8s.conftest import STACKS, example
from tests.components.k8s.helpers import by_name

# What each example blueprint must produce on the cluster, per environment.
RECS_KINDS = {
    "Namespace": 4,  # serving, training, kueue-system, kubeflow-system
    "ServiceAccount": 6,  # two endpoints, Redis, training runner and jobs, MLflow
    "Deployment": 1,
    "Service": 3,  # embedder, Redis client and headless
    "HorizontalPodAutoscaler": 1,
    "PodDisruptionBudget": 2,  # embedder, Redis
    "NetworkPolicy": 4,  # embedder, ranker, Redis, MLflow
    "InferenceService": 1,
    "StatefulSet": 1,
    "Secret": 3,  # Redis password, MLflow admin, MLflow login for the training namespace
    "ResourceQuota": 1,
    "LimitRange": 1,
    "PriorityClass": 2,  # serving, training
    "Role": 1,
    "RoleBinding": 1,
    "PrometheusRule": 2,  # endpoints, training
    "ServiceMonitor": 4,  # ranker, embedder, Kueue, JobSet
    "AlertmanagerConfig": 1,
    "ConfigMap": 1,
    "ResourceFlavor": 2,  # cpu-on-demand, gpu (spot in dev, on-demand elsewhere)
    "ClusterQueue": 1,
    "LocalQueue": 1,
    "WorkloadPriorityClass": 3,
    "TrainingRuntime": 2,  # torch-distributed, torch-single-node
    "NodePool": 2,  # cpu, gpu (the cluster's Karpenter)
    "EC2NodeClass": 2,
    "SecretStore": 1,  # MLflow's database credentials, synced from Secrets Manager
    "ExternalSecret": 1,
}
# The same shape without an ExperimentTracker: no MLflow account, policy, secrets or their sync,
# and without node pools (the cluster's own nodes).
SEARCH_KINDS = {
    **{k: v for k, v in RECS_KINDS.items() if k not in ("SecretStore", "ExternalSecret", "NodePool", "EC2NodeClass")},
    "ServiceAccount": 5,
    "NetworkPolicy": 3,
    "Secret": 1,
}
EXPECTED_KINDS = {"blueprints/recommender_k8s.py": RECS_KINDS, "blueprints/search_k8s.py": SEARCH_KINDS}
# Kinds validated against the upstream CRDs in ../shared/crds/.
CRD_KINDS = {
    "InferenceService",
    "PrometheusRule",
    "ServiceMonitor",
    "AlertmanagerConfig",
    "ResourceFlavor",
    "ClusterQueue",
    "LocalQueue",
    "WorkloadPriorityClass",
    "TrainingRuntime",
    "NodePool",
    "EC2NodeClass",
}
NO_CRD_HERE = {"SecretStore", "ExternalSecret"}  # External Secrets Operator: no CRD in ../shared/crds/


def objects(captured: Captured) -> list[dict[str, Any]]:
    return [manifests.render(r) for r in captured.resources if manifests.is_kubernetes_object(r)]


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_is_valid(programs: dict[str, Captured], stack: str) -> None:
    rendered = objects(programs[stack])
    expected = EXPECTED_KINDS[example(stack).blueprint]
    assert collections.Counter(m["kind"] for m in rendered) == expected
    how = collections.Counter()
    for manifest in rendered:
        where = f"{stack} {manifest['kind']} {manifest['metadata'].get('name')}"
        try:
            how[manifests.validate(manifest)] += 1
        except Exception as exc:  # the message names the object
            raise AssertionError(f"{where}: {exc}") from exc
    elsewhere = sum(n for kind, n in expected.items() if kind in NO_CRD_HERE)
    crds = sum(n for kind, n in expected.items() if kind in CRD_KINDS)
    assert how == {"builtin": sum(expected.values()) - crds - elsewhere, "crd": crds} | (
        {"no-crd-here": elsewhere} if elsewhere else {}
    )


def test_strict_validation_rejects_an_unknown_field(prod: Captured) -> None:
    deployment = next(m for m in objects(prod) if m["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    with pytest.raises(manifests.kubernetes_validate.ValidationError):
        manifests.validate(deployment)


def test_crd_validation_rejects_a_wrong_field(prod: Captured) -> None:
    isvc = next(m for m in objects(prod) if m["kind"] == "InferenceService")
    isvc["spec"]["predictor"]["minReplicas"] = "three"
    with pytest.raises(manifests.jsonschema.ValidationError):
        manifests.validate(isvc)
    rule = next(m for m in objects(prod) if m["kind"] == "PrometheusRule")
    rule["spec"]["groups"][0]["rules"][0]["expression"] = "typo"
    with pytest.raises(manifests.jsonschema.ValidationError):
        manifests.validate(rule)


def test_crds_are_read_from_shared_beside_the_repository() -> None:
    assert manifests.CRDS.parent.name == "shared"
    assert manifests.ROOT not in manifests.CRDS.parents
    for filename in manifests.CUSTOM_KINDS.values():
        assert (manifests.CRDS / filename).is_file(), filename
        for folder in ("mlplatform", "tests", "stacks", "blueprints"):
            assert not list((manifests.ROOT / folder).rglob(filename)), f"{filename} copied into {folder}/"


@pytest.mark.parametrize("stack", STACKS)
def test_every_workload_is_hardened(programs: dict[str, Captured], stack: str) -> None:
    workloads = [m for m in objects(programs[stack]) if m["kind"] in manifests.WORKLOAD_KINDS]
    assert sorted(m["kind"] for m in workloads) == ["Deployment", "InferenceService", "StatefulSet"]
    checked = 0
    for manifest in workloads:
        pod = manifests.pod_spec(manifest)
        for role, container in manifests.containers(pod):
            assert_hardened(f"{stack} {manifest['kind']} {manifest['metadata']['name']}", pod, role, container)
            checked += 1
    assert checked == 5  # server + model fetch and unpack, KServe predictor, Redis


def assert_hardened(where: str, pod: dict[str, Any], role: str, c: dict[str, Any]) -> None:
    where = f"{where} container {c['name']}"
    sc = c.get("securityContext", {})
    assert sc.get("runAsNonRoot") is True, where
    assert isinstance(sc.get("runAsUser"), int) and sc["runAsUser"] > 0, where
    assert sc.get("readOnlyRootFilesystem") is True, where
    assert sc.get("allowPrivilegeEscalation") is False, where
    assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
    assert not sc.get("capabilities", {}).get("add"), where
    assert sc.get("seccompProfile") == {"type": "RuntimeDefault"}, where
    # Pod level, or (where Knative refuses a pod securityContext) on the container itself.
    pod_sc = pod.get("securityContext", {})
    assert pod_sc.get("runAsNonRoot", sc.get("runAsNonRoot")) is True, where
    assert pod_sc.get("seccompProfile", sc.get("seccompProfile")) == {"type": "RuntimeDefault"}, where
    assert pod.get("automountServiceAccountToken") is False, where
    image = c["image"]
    assert manifests_image_pinned(image), f"{where}: {image}"
    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        assert res.get(kind, {}).get("cpu") and res[kind].get("memory"), f"{where} {kind}"
    assert res["requests"] == res["limits"], where
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    assert "emptyDir" in volumes[mounts["/tmp"]], f"{where}: /tmp is not an emptyDir"
    if role == "main":  # Kubernetes forbids probes on init containers
        for probe in ("livenessProbe", "readinessProbe"):
            assert c.get(probe), f"{where} lacks {probe}"


def manifests_image_pinned(image: str) -> bool:
    """A digest, or a tag on the last path segment that is not 'latest'."""
    if re.search(r"@sha256:[0-9a-f]{64}$", image):
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] not in ("", "latest")


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_is_labelled(programs: dict[str, Captured], stack: str) -> None:
    ex = example(stack)
    for manifest in objects(programs[stack]):
        labels = manifest["metadata"]["labels"]
        where = f"{manifest['kind']} {manifest['metadata']['name']}"
        for key in ("name", "instance", "component", "part-of", "managed-by"):
            assert labels.get(f"app.kubernetes.io/{key}"), f"{where} lacks app.kubernetes.io/{key}"
        assert labels["app.kubernetes.io/part-of"] == ex.spec.name
        assert labels["mlplatform.io/platform"] == ex.spec.name, where
        assert labels["mlplatform.io/team"] == ex.spec.team, where
        assert labels["mlplatform.io/environment"] == ex.env, where


@pytest.mark.parametrize("stack", STACKS)
def test_every_volume_claim_of_the_examples_names_the_declared_storage_class(
    programs: dict[str, Captured], stack: str
) -> None:
    # Kubernetes "Persistent Volumes": a claim without storageClassName takes the cluster's default
    # class, if any; an EKS cluster has none that binds without the EBS CSI driver. Name it.
    declared = example(stack).spec.kubernetes.storage_class
    claims = []
    for m in objects(programs[stack]):
        if m["kind"] == "PersistentVolumeClaim":
            claims.append(m["spec"])
        claims += [t["spec"] for t in m.get("spec", {}).get("volumeClaimTemplates", [])]
    assert claims, "the Redis online store persists on a claim"
    assert [c["storageClassName"] for c in claims] == [declared] * len(claims)


@pytest.mark.parametrize("stack", STACKS)
def test_the_examples_serve_the_promoted_image_pinned_by_digest(programs: dict[str, Captured], stack: str) -> None:
    # A tag can be moved after approval; a digest names the bytes that were promoted.
    ex, captured = example(stack), programs[stack]
    promoted = stack_config.read(promoted_file(stack)).models
    for ep in ex.endpoints:
        assert ep.image is None or re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", ep.image), ep.image
        if ep.kserve:
            pod = by_name(captured, f"{ep.name}-isvc").inputs["spec"]["predictor"]
        else:
            pod = by_name(captured, f"{ep.name}-deployment").inputs["spec"]["template"]["spec"]
        assert pod["containers"][0]["image"] == promoted[ep.model].image, ep.name
