"""Kubernetes workload rules (Checkov CKV_K8S ids): pass on a locked-down pod, exact failures."""

from __future__ import annotations

import copy

import pytest

from mlplatform.policy import RULES
from tests.policy.helpers import res

DEPLOYMENT = "kubernetes:apps/v1:Deployment"

CONTAINER = {
    "name": "server",
    "image": "ghcr.io/example/recs-ranker-server:1.4.2",
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True},
}


def deployment(container: dict | None = None, pod: dict | None = None) -> dict:
    spec = {"containers": [container or CONTAINER], **(pod or {})}
    return {"metadata": {"name": "ranker"}, "spec": {"replicas": 3, "template": {"spec": spec}}}


def without(path: list[str]) -> dict:
    container = copy.deepcopy(CONTAINER)
    target = container
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return container


@pytest.mark.parametrize("rule_id", [f"MLP-K8S-{n:03d}" for n in range(1, 11)])
def test_locked_down_deployment_passes(rule_id: str) -> None:
    assert RULES[rule_id](res(DEPLOYMENT, "ranker", deployment())) == []


@pytest.mark.parametrize(
    ("rule_id", "path", "message"),
    [
        ("MLP-K8S-001", ["livenessProbe"], "has no livenessProbe: add one"),
        ("MLP-K8S-002", ["readinessProbe"], "has no readinessProbe: add one"),
        (
            "MLP-K8S-003",
            ["resources", "requests", "cpu"],
            "sets no cpu requests: set resources.requests.cpu (ModelEndpoint cpu)",
        ),
        (
            "MLP-K8S-004",
            ["resources", "limits", "cpu"],
            "sets no cpu limits: set resources.limits.cpu (ModelEndpoint cpu)",
        ),
        (
            "MLP-K8S-005",
            ["resources", "requests", "memory"],
            "sets no memory requests: set resources.requests.memory (ModelEndpoint memory)",
        ),
        (
            "MLP-K8S-006",
            ["resources", "limits", "memory"],
            "sets no memory limits: set resources.limits.memory (ModelEndpoint memory)",
        ),
        (
            "MLP-K8S-007",
            ["securityContext", "allowPrivilegeEscalation"],
            "may escalate privileges: set securityContext.allowPrivilegeEscalation=false",
        ),
        (
            "MLP-K8S-008",
            ["securityContext", "readOnlyRootFilesystem"],
            "has a writable root filesystem: set securityContext.readOnlyRootFilesystem=true (mount an emptyDir "
            "where it must write)",
        ),
        (
            "MLP-K8S-009",
            ["securityContext", "runAsNonRoot"],
            "may run as root: set securityContext.runAsNonRoot=true and a non-zero runAsUser",
        ),
        ("MLP-K8S-010", ["image"], "image is not pinned: use a version tag or a digest, never 'latest' or none"),
    ],
)
def test_each_rule_fails_with_its_message(rule_id: str, path: list[str], message: str) -> None:
    found = RULES[rule_id](res(DEPLOYMENT, "ranker", deployment(without(path))))
    assert found == [f"Deployment 'ranker' container 'server' {message}"]


def test_checkov_ids() -> None:
    ids = {f"MLP-K8S-{n:03d}": RULES[f"MLP-K8S-{n:03d}"].checkov for n in range(1, 11)}
    assert ids == {
        "MLP-K8S-001": "CKV_K8S_8",
        "MLP-K8S-002": "CKV_K8S_9",
        "MLP-K8S-003": "CKV_K8S_10",
        "MLP-K8S-004": "CKV_K8S_11",
        "MLP-K8S-005": "CKV_K8S_12",
        "MLP-K8S-006": "CKV_K8S_13",
        "MLP-K8S-007": "CKV_K8S_20",
        "MLP-K8S-008": "CKV_K8S_22",
        "MLP-K8S-009": "CKV_K8S_23",
        "MLP-K8S-010": "CKV_K8S_14",
    }


@pytest.mark.parametrize(
    ("image", "ok"),
    [
        ("ghcr.io/x/y:1.2", True),
        ("ghcr.io/x/y@sha256:" + "a" * 64, True),
        ("ghcr.io/x/y:latest", False),
        ("ghcr.io/x/y", False),
        ("localhost:5000/y", False),
    ],
)
def test_image_tag(image: str, ok: bool) -> None:
    container = {**CONTAINER, "image": image}
    assert (RULES["MLP-K8S-010"](res(DEPLOYMENT, "ranker", deployment(container))) == []) is ok


def test_non_root_inherited_from_pod_security_context() -> None:
    container = without(["securityContext", "runAsNonRoot"])
    pod = {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000}}
    assert RULES["MLP-K8S-009"](res(DEPLOYMENT, "ranker", deployment(container, pod))) == []
    root = {**CONTAINER, "securityContext": {**CONTAINER["securityContext"], "runAsUser": 0}}
    assert RULES["MLP-K8S-009"](res(DEPLOYMENT, "ranker", deployment(root))) != []


def test_jobs_need_no_probes_but_limits() -> None:
    job = {"metadata": {"name": "train"}, "spec": {"template": {"spec": {"containers": [without(["livenessProbe"])]}}}}
    assert RULES["MLP-K8S-001"](res("kubernetes:batch/v1:Job", "train", job)) == []
    bare = {"metadata": {"name": "train"}, "spec": {"template": {"spec": {"containers": [without(["resources"])]}}}}
    assert RULES["MLP-K8S-004"](res("kubernetes:batch/v1:Job", "train", bare)) == [
        "Job 'train' container 'server' sets no cpu limits: set resources.limits.cpu (ModelEndpoint cpu)"
    ]


def test_kserve_predictor_model_container_is_checked() -> None:
    isvc = {
        "metadata": {"name": "ranker"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "xgboost"}, "storageUri": "s3://m"}}},
    }
    found = RULES["MLP-K8S-006"](res("kubernetes:serving.kserve.io/v1beta1:InferenceService", "ranker", isvc))
    assert found == [
        "InferenceService 'ranker' container 'kserve-container' sets no memory limits: set "
        "resources.limits.memory (ModelEndpoint memory)"
    ]
    assert RULES["MLP-K8S-010"](res("kubernetes:serving.kserve.io/v1beta1:InferenceService", "ranker", isvc)) == []
