"""KServe objects that Knative accepts for the declared cluster: what the platform renders for a
Serverless InferenceService passes Knative's webhook with exactly the feature flags declared."""

from __future__ import annotations

from typing import Any

import pytest

from mlplatform.components.k8s import kserve as kserve_objects
from mlplatform.plan.engine import Captured
from mlplatform.spec.cluster import KServe
from mlplatform.spec.model_endpoint import ModelEndpoint, ServingMetrics
from tests.components.k8s.conftest import STACKS, example
from tests.components.k8s.helpers import by_name, cluster, platform, run_k8s
from tests.components.k8s.knative import knative_template, rejections

EXAMPLE_FEATURES = {"kubernetes.podspec-priorityclassname"}  # what recommender_k8s.py declares
ALL = {
    "kubernetes.podspec-securitycontext",
    "kubernetes.podspec-init-containers",
    "kubernetes.podspec-priorityclassname",
    "kubernetes.podspec-nodeselector",
    "kubernetes.podspec-tolerations",
}


def template(captured: Captured, kserve: KServe) -> dict[str, Any]:
    predictor = by_name(captured, "ranker-isvc").inputs["spec"]["predictor"]
    return knative_template(predictor, storage_uris_init=kserve_objects.uses_storage_uris(kserve))


@pytest.mark.parametrize("stack", STACKS)
def test_every_kserve_endpoint_of_the_examples_is_what_its_declared_mode_accepts(
    programs: dict[str, Captured], stack: str
) -> None:
    # Serverless: knative/serving pkg/apis/serving/fieldmask.go and k8s_validation.go, with the
    # feature flags the blueprint declares. RawDeployment: KServe renders a Deployment, so the pod
    # fields serving needs stay. Both: storageUris only on KServe 0.16+ ("Multiple storage URIs",
    # KServe 0.16 docs), else the STORAGE_URI variable KServe's pod webhook reads.
    ex, captured = example(stack), programs[stack]
    declared = ex.spec.kubernetes.kserve
    served = [e for e in ex.endpoints if e.kserve]
    assert served, "every Kubernetes example serves through KServe"
    for ep in served:
        isvc = by_name(captured, f"{ep.name}-isvc")
        assert isvc.inputs["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == declared.mode
        predictor = isvc.inputs["spec"]["predictor"]
        (server,) = predictor["containers"]
        env = {e["name"]: e["value"] for e in server["env"]}
        uri = isvc.inputs["spec"]["predictor"]["annotations"]["mlplatform.io/model-uri"]
        if kserve_objects.uses_storage_uris(declared):
            assert predictor["storageUris"] == [{"uri": uri, "mountPath": "/mnt/models"}] and "STORAGE_URI" not in env
        else:
            assert "storageUris" not in predictor and env["STORAGE_URI"] == uri
        assert "PORT" not in env
        pod = knative_template(predictor, storage_uris_init=kserve_objects.uses_storage_uris(declared))
        if declared.mode == "Serverless":
            assert rejections(pod, set(declared.knative_features)) == [], ep.name
            assert [p["containerPort"] for p in server["ports"]] == [ep.port] == [ep.metrics.port]
        else:
            assert predictor["priorityClassName"] == f"{ex.prefix}-serving"
            assert predictor["securityContext"]["runAsNonRoot"] is True
            assert [p["containerPort"] for p in server["ports"]] == [ep.port, ep.metrics.port]
            if ep.gpus:
                assert {"nodeSelector", "tolerations"} <= set(predictor)
            # ...fields a Knative Service would refuse: the declared mode decides what is rendered.
            assert rejections(pod, set(declared.knative_features)) != []


def test_the_recs_ranker_needs_exactly_the_declared_knative_flag(programs: dict[str, Captured]) -> None:
    # A stock Knative (no config-features flag) refuses exactly the priorityClassName (validation says so too).
    predictor = by_name(programs["recs-prod"], "ranker-isvc").inputs["spec"]["predictor"]
    pod = knative_template(predictor, storage_uris_init=False)  # KServe 0.15: STORAGE_URI
    assert rejections(pod, EXAMPLE_FEATURES) == []
    assert pod["priorityClassName"] == "recs-prod-serving"
    assert rejections(pod, set()) == [
        "must not set the field(s): priorityClassName (needs kubernetes.podspec-priorityclassname)"
    ]


@pytest.mark.parametrize(
    "features",
    [set(), {"kubernetes.podspec-priorityclassname"}, {"kubernetes.podspec-init-containers"}, ALL],
    ids=["stock", "priority", "init-containers", "all"],
)
@pytest.mark.parametrize("version", ["0.15", "0.16"])
def test_what_is_rendered_for_a_declared_knative_is_what_it_accepts(features: set[str], version: str) -> None:
    kserve = KServe(version=version, knative_features=sorted(features))
    gpus = 1 if {"kubernetes.podspec-nodeselector", "kubernetes.podspec-tolerations"} <= features else 0
    ep = ModelEndpoint(
        name="ranker",
        model="ranker-model",
        target="kubernetes",
        kserve=True,
        gpus=gpus,
        metrics=ServingMetrics(port=8080),
    )
    captured, _ = run_k8s(platform(ep, kubernetes=cluster(kserve=kserve)))
    pod = template(captured, kserve)
    assert rejections(pod, features) == []
    predictor = by_name(captured, "ranker-isvc").inputs["spec"]["predictor"]
    # storageUris (KServe 0.16+) puts the storage initializer in the Knative template: only with the flag.
    assert ("storageUris" in predictor) == (version == "0.16" and "kubernetes.podspec-init-containers" in features)


def test_the_rules_the_platform_follows_are_the_ones_knative_enforces() -> None:
    # Each shortcut the renderer avoids, rejected by the checker as Knative's webhook rejects it.
    server = {"name": "kserve-container", "image": "x:1", "env": [{"name": "PORT", "value": "8080"}]}
    assert rejections({"containers": [server]}, set()) == [
        "kserve-container: 'PORT' is a reserved environment variable"
    ]
    two_ports = {
        "name": "c",
        "image": "x:1",
        "ports": [{"name": "http1", "containerPort": 8080}, {"containerPort": 8082}],
    }
    assert rejections({"containers": [two_ports]}, set()) == ["more than one container port is set"]
    pod = {"containers": [{"name": "c", "image": "x:1"}], "securityContext": {"runAsNonRoot": True}}
    assert rejections(pod, set()) == [
        "must not set the field(s): securityContext (needs kubernetes.podspec-securitycontext)"
    ]
    with_init = {"containers": [{"name": "c", "image": "x:1"}], "initContainers": [{"name": "i", "image": "y:1"}]}
    assert "pod spec support for init-containers is off, but found 1 init containers" in rejections(with_init, set())
    privileged = {"name": "c", "image": "x:1", "securityContext": {"privileged": True}}
    assert rejections({"containers": [privileged]}, set()) == ["c: privileged may only be set to false"]
    assert rejections({"containers": [{"name": "c", "image": "x:1"}], "terminationGracePeriodSeconds": 30}, ALL) == [
        "must not set the field(s): terminationGracePeriodSeconds"
    ]


def test_raw_deployment_keeps_the_fields_knative_would_refuse() -> None:
    # RawDeployment renders a plain Deployment: no Knative webhook, so pod fields stay.
    kserve = KServe(mode="RawDeployment")
    ep = ModelEndpoint(name="ranker", model="ranker-model", target="kubernetes", kserve=True, gpus=1)
    captured, _ = run_k8s(platform(ep, kubernetes=cluster(kserve=kserve)))
    predictor = by_name(captured, "ranker-isvc").inputs["spec"]["predictor"]
    assert {"securityContext", "priorityClassName", "nodeSelector", "tolerations"} <= set(predictor)
    assert len(predictor["containers"][0]["ports"]) == 2  # serving and metrics
