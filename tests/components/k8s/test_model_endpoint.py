"""ModelEndpoint on Kubernetes: plain workloads or KServe, pinned images, promoted models."""

from __future__ import annotations

import pytest

from mlplatform.errors import MlplatformError
from mlplatform.spec.model_endpoint import AllAtOnce, Canary, Linear, ModelEndpoint
from mlplatform.spec.monitoring import MonitoringStack
from tests.components.k8s.helpers import MODELS, SHA, by_name, container, of_type, platform, run_k8s


def endpoint(**kwargs: object) -> ModelEndpoint:
    base: dict[str, object] = {"name": "ranker", "model": "ranker-model", "target": "kubernetes"}
    return ModelEndpoint(**{**base, **kwargs})  # type: ignore[arg-type]


def test_plain_endpoint_children_names_and_types() -> None:
    captured, _ = run_k8s(platform(endpoint(min_instances=2, max_instances=5)))
    component = by_name(captured, "ranker")
    assert component.type == "mlplatform:k8s:ModelEndpoint"
    children = sorted((r.name, r.type.split(":", 1)[1]) for r in captured.resources if r.parent == component.urn)
    assert children == [
        ("ranker-deployment", "apps/v1:Deployment"),
        ("ranker-hpa", "autoscaling/v2:HorizontalPodAutoscaler"),
        ("ranker-netpol", "networking.k8s.io/v1:NetworkPolicy"),
        ("ranker-pdb", "policy/v1:PodDisruptionBudget"),
        ("ranker-sa", "core/v1:ServiceAccount"),
        ("ranker-service", "core/v1:Service"),
    ]
    for name, _ in children:
        meta = by_name(captured, name).inputs["metadata"]
        assert (meta["name"], meta["namespace"]) == ("shop-dev-ranker", "shop-dev")
        assert meta["labels"]["app.kubernetes.io/version"] == "7"


def test_deployment_rolls_without_dropping_below_the_minimum() -> None:
    captured, _ = run_k8s(platform(endpoint(min_instances=2, max_instances=5, deployment=Canary(percent=10))))
    spec = by_name(captured, "ranker-deployment").inputs["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "10%"}}
    assert spec["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "ranker",
        "app.kubernetes.io/instance": "shop-dev-ranker",
    }
    pdb = by_name(captured, "ranker-pdb").inputs["spec"]
    assert pdb["maxUnavailable"] == 1 and pdb["selector"]["matchLabels"] == spec["selector"]["matchLabels"]


@pytest.mark.parametrize(
    ("deployment", "surge", "canary"),
    [(AllAtOnce(), "100%", None), (Canary(percent=5), "5%", 5), (Linear(step_percent=25), "25%", 25)],
)
def test_strategy_maps_to_surge_and_kserve_canary_traffic(
    deployment: AllAtOnce | Canary | Linear, surge: str, canary: int | None
) -> None:
    plain, _ = run_k8s(platform(endpoint(deployment=deployment)))
    assert by_name(plain, "ranker-deployment").inputs["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == surge
    served, _ = run_k8s(platform(endpoint(kserve=True, deployment=deployment)))
    assert by_name(served, "ranker-isvc").inputs["spec"]["predictor"].get("canaryTrafficPercent") == canary


def test_hpa_scales_on_cpu_between_min_and_max_and_only_when_they_differ() -> None:
    captured, _ = run_k8s(platform(endpoint(min_instances=2, max_instances=6)))
    hpa = by_name(captured, "ranker-hpa").inputs["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-dev-ranker"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    fixed, _ = run_k8s(platform(endpoint(min_instances=2, max_instances=2)))
    assert of_type(fixed, "HorizontalPodAutoscaler") == []


def test_model_artifact_is_fetched_and_checked_by_an_init_container() -> None:
    captured, _ = run_k8s(platform(endpoint()))
    deployment = by_name(captured, "ranker-deployment")
    fetch = container(deployment, "fetch-model", init=True)
    env = {e["name"]: e["value"] for e in fetch["env"]}
    assert env["MODEL_URI"] == MODELS["ranker-model"].uri
    assert env["MODEL_SHA256"] == SHA
    assert "sha256sum -c" in fetch["command"][-1]
    server = container(deployment, "server")
    assert server["image"] == "ghcr.io/example/ranker:1.0.0"  # the promoted version's image
    assert {"name": "model", "mountPath": "/mnt/models", "readOnly": True} in server["volumeMounts"]
    assert server["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert server["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    annotations = deployment.inputs["spec"]["template"]["metadata"]["annotations"]
    assert annotations["mlplatform.io/model-sha256"] == SHA


def test_kserve_inference_service_from_the_promoted_model() -> None:
    captured, _ = run_k8s(platform(endpoint(kserve=True, min_instances=2, max_instances=4, gpus=1, cpu="4")))
    assert of_type(captured, "apps/v1:Deployment") == []
    isvc = by_name(captured, "ranker-isvc")
    assert isvc.type == "kubernetes:serving.kserve.io/v1beta1:InferenceService"
    assert isvc.inputs["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    predictor = isvc.inputs["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 4)
    assert predictor["storageUris"] == [{"uri": MODELS["ranker-model"].uri, "mountPath": "/mnt/models"}]
    assert predictor["serviceAccountName"] == "shop-dev-ranker"
    server = container(isvc, "kserve-container")
    amounts = {"cpu": "4", "memory": "2Gi", "nvidia.com/gpu": "1"}
    assert server["resources"] == {"requests": amounts, "limits": amounts}
    assert predictor["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_network_policy_admits_own_namespace_callers_and_prometheus_when_watched() -> None:
    watched = MonitoringStack(name="watch", target="kubernetes", endpoints=["ranker"])
    captured, _ = run_k8s(platform(endpoint(allowed_callers=["frontend", "batch"]), watched))
    spec = by_name(captured, "ranker-netpol").inputs["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    allowed = [
        [p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in r["from"]]
        for r in spec["ingress"]
    ]
    assert allowed == [["shop-dev", "frontend", "batch"], ["monitoring"]]
    assert all(r["ports"] == [{"protocol": "TCP", "port": 8080}] for r in spec["ingress"])
    alone, _ = run_k8s(platform(endpoint()))
    assert len(by_name(alone, "ranker-netpol").inputs["spec"]["ingress"]) == 1


def test_service_account_token_is_not_mounted() -> None:
    captured, _ = run_k8s(platform(endpoint()))
    assert by_name(captured, "ranker-sa").inputs["automountServiceAccountToken"] is False
    pod = by_name(captured, "ranker-deployment").inputs["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "shop-dev-ranker"


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("ghcr.io/example/ranker:latest", "uses the 'latest' tag"),
        ("ghcr.io/example/ranker", "has no tag"),
        ("localhost:5000/ranker", "has no tag"),
        ("ghcr.io/example/ranker@sha256:abc", "has a malformed digest"),
    ],
)
def test_unpinned_images_are_rejected(image: str, problem: str) -> None:
    with pytest.raises(MlplatformError) as err:
        run_k8s(platform(endpoint(image=image)))
    assert f"ModelEndpoint 'ranker', image: '{image}' {problem}" in str(err.value)
    assert "pin it with a version tag" in str(err.value)


def test_a_digest_pins_and_the_promoted_image_is_checked_too() -> None:
    digest = "ghcr.io/example/ranker@sha256:" + "a" * 64
    captured, _ = run_k8s(platform(endpoint(image=digest)))
    assert container(by_name(captured, "ranker-deployment"), "server")["image"] == digest
    bad = {"ranker-model": MODELS["ranker-model"].__class__("7", "s3://b/m.tar.gz", SHA, "ranker:latest")}
    with pytest.raises(MlplatformError, match=r"stack config mlplatform:models.ranker-model.image: 'ranker:latest'"):
        run_k8s(platform(endpoint()), models=bad)


def test_endpoint_without_a_promoted_model_is_skipped_with_a_warning() -> None:
    watched = MonitoringStack(name="watch", target="kubernetes", endpoints=["ranker"])
    captured, _ = run_k8s(platform(endpoint(), watched), models={})
    assert [r for r in captured.resources if "ranker" in r.name] == []
    assert any(
        "ModelEndpoint 'ranker' skipped: model 'ranker-model' has no promoted version" in w for w in captured.warnings
    )
    assert any("endpoint 'ranker' was not built; not watched" in w for w in captured.warnings)
