"""Namespace policies: serving outranks training, and the training LimitRange admits ordinary
container specs (Kubernetes LimitRange semantics, emulated from the API's defaulting and the
LimitRanger admission plugin)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlplatform.plan.engine import Captured
from mlplatform.spec.training_cluster import Quota, TrainingCluster
from tests.components.k8s.conftest import STACKS, example
from tests.components.k8s.helpers import by_name, platform, run_k8s

UNITS = {"m": 1e-3, "": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity(value: str) -> float:
    for suffix in ("Ki", "Mi", "Gi", "m"):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * UNITS[suffix]
    return float(value)


def admit(resources: dict[str, dict[str, str]], item: dict[str, Any]) -> tuple[bool, str, dict[str, dict[str, str]]]:
    """A container's resources through a LimitRange `Container` item: the item's API defaulting
    (SetDefaults_LimitRangeItem: a missing `default` is `max`, a missing `defaultRequest` is
    `default`), the pod's (a missing request is its limit), LimitRanger's defaults (a missing limit
    is `default`, a missing request `defaultRequest`), then validation (request <= limit, limit <= max)."""
    default = {**item.get("max", {}), **item.get("default", {})}
    default_request = {**default, **item.get("defaultRequest", {})}
    requests = dict(resources.get("requests", {}))
    limits = dict(resources.get("limits", {}))
    for key, value in limits.items():
        requests.setdefault(key, value)
    for key, value in default.items():
        limits.setdefault(key, value)
    for key, value in default_request.items():
        requests.setdefault(key, value)
    for key, request in requests.items():
        if key in limits and quantity(request) > quantity(limits[key]):
            return False, f"{key}: request {request} must be less than or equal to the limit {limits[key]}", {}
    for key, most in item.get("max", {}).items():
        if quantity(limits[key]) > quantity(most):
            return False, f"maximum {key} usage per Container is {most}, but limit is {limits[key]}", {}
    return True, "", {"requests": requests, "limits": limits}


QUOTA = Quota(gpus=2, cpu=32, memory_gb=128, pods=20)


def limit_item() -> dict[str, Any]:
    captured, _ = run_k8s(platform(TrainingCluster(name="train", target="kubernetes", quota=QUOTA)))
    (item,) = by_name(captured, "train-limits").inputs["spec"]["limits"]
    return dict(item)


@pytest.mark.parametrize(
    ("resources", "admitted"),
    [
        (
            {"requests": {"cpu": "8", "memory": "32Gi"}},
            {"requests": {"cpu": "8", "memory": "32Gi"}, "limits": {"cpu": "32", "memory": "128Gi"}},
        ),
        ({}, {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "32", "memory": "128Gi"}}),
        (
            {"limits": {"cpu": "2", "memory": "4Gi"}},
            {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        ),
        (
            {"requests": {"cpu": "4"}, "limits": {"cpu": "8"}},
            {"requests": {"cpu": "4", "memory": "1Gi"}, "limits": {"cpu": "8", "memory": "128Gi"}},
        ),
    ],
    ids=["only-larger-requests", "nothing", "only-limits", "requests-and-limits"],
)
def test_ordinary_container_specs_are_admitted(resources: dict[str, Any], admitted: dict[str, Any]) -> None:
    ok, why, result = admit(resources, limit_item())
    assert ok, why
    assert result == admitted


def test_a_container_above_the_namespace_maximum_is_refused() -> None:
    ok, why, _ = admit({"limits": {"cpu": "64"}}, limit_item())
    assert (ok, why) == (False, "maximum cpu usage per Container is 32, but limit is 64")


def test_a_default_limit_would_have_refused_larger_requests() -> None:
    # The LimitRange this replaces: default limits of 1 CPU / 2Gi reject a container asking for 8 CPUs.
    old = {
        "type": "Container",
        "defaultRequest": {"cpu": "500m", "memory": "1Gi"},
        "default": {"cpu": "1", "memory": "2Gi"},
    }
    ok, why, _ = admit({"requests": {"cpu": "8"}}, old)
    assert (ok, why) == (False, "cpu: request 8 must be less than or equal to the limit 1")


def priority_classes(captured: Captured) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["metadata"]["name"]: r.inputs
        for r in captured.resources
        if r.type == "kubernetes:scheduling.k8s.io/v1:PriorityClass"
    }


@pytest.mark.parametrize("stack", STACKS)
def test_serving_outranks_training_in_the_example(programs: dict[str, Captured], stack: str) -> None:
    # Kubernetes "Pod Priority and Preemption": a higher value schedules first and may preempt lower.
    ex, captured = example(stack), programs[stack]
    (cluster,) = [c for c in ex.spec.of_kind(TrainingCluster) if c.target == "kubernetes"]
    classes = priority_classes(captured)
    serving_class, training_class = f"{ex.prefix}-serving", f"{ex.prefix}-{cluster.name}-training"
    serving, training = classes[serving_class], classes[training_class]
    assert serving["value"] > training["value"]
    assert (serving["preemptionPolicy"], training["preemptionPolicy"]) == ("PreemptLowerPriority", "Never")
    assert not serving["globalDefault"] and not training["globalDefault"]
    for ep in ex.endpoints:
        if ep.kserve:
            pod = by_name(captured, f"{ep.name}-isvc").inputs["spec"]["predictor"]
        else:
            pod = by_name(captured, f"{ep.name}-deployment").inputs["spec"]["template"]["spec"]
        assert pod["priorityClassName"] == serving_class, ep.name
    runtimes = [
        r
        for r in captured.resources
        if r.type.endswith("ClusterTrainingRuntime") or r.type.endswith(":TrainingRuntime")
    ]
    assert runtimes, "the training runtimes carry the training priority"
    for runtime in runtimes:
        assert f'"priorityClassName": "{training_class}"' in json.dumps(runtime.inputs), runtime.name
