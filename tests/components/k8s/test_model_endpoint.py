"""ModelEndpoint on Kubernetes: plain workloads or KServe, pinned images, promoted models."""

from __future__ import annotations

import pytest

from mlplatform.components.k8s import model_endpoint
from mlplatform.errors import MlplatformError
from mlplatform.spec.cluster import KServe
from mlplatform.spec.model_endpoint import ModelEndpoint, ServingMetrics
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.stack_config import PromotedModel
from tests.components.k8s.helpers import (
    MODELS,
    SHA,
    by_name,
    cluster,
    container,
    of_type,
    options,
    platform,
    run_k8s,
)


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
        ("ranker-model-read", "iam/rolePolicy:RolePolicy"),
        ("ranker-model-reader", "iam/role:Role"),
        ("ranker-netpol", "networking.k8s.io/v1:NetworkPolicy"),
        ("ranker-pdb", "policy/v1:PodDisruptionBudget"),
        ("ranker-sa", "core/v1:ServiceAccount"),
        ("ranker-service", "core/v1:Service"),
    ]
    for name, type_ in children:
        if type_.startswith("iam/"):
            continue
        meta = by_name(captured, name).inputs["metadata"]
        assert (meta["name"], meta["namespace"]) == ("shop-dev-ranker", "shop-dev")
        assert meta["labels"]["app.kubernetes.io/version"] == "7"


def test_deployment_rolls_all_at_once_without_dropping_below_the_minimum() -> None:
    captured, _ = run_k8s(platform(endpoint(min_instances=2, max_instances=5)))
    spec = by_name(captured, "ranker-deployment").inputs["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "100%"}}
    assert spec["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "ranker",
        "app.kubernetes.io/instance": "shop-dev-ranker",
    }
    pdb = by_name(captured, "ranker-pdb").inputs["spec"]
    assert pdb["maxUnavailable"] == 1 and pdb["selector"]["matchLabels"] == spec["selector"]["matchLabels"]


def test_pulumi_waits_longer_than_the_rollout_deadline() -> None:
    # pulumi-kubernetes awaits a Deployment for 10 minutes by default (DefaultDeploymentTimeoutMins);
    # a shorter wait than progressDeadlineSeconds times out before Kubernetes reports the failure.
    captured, _ = run_k8s(platform(endpoint()))
    deployment = by_name(captured, "ranker-deployment")
    deadline = deployment.inputs["spec"]["progressDeadlineSeconds"]
    timeouts = options(captured, deployment)["customTimeouts"]
    assert deadline == 900 and timeouts == {"create": "20m", "update": "20m"}
    assert int(timeouts["update"].removesuffix("m")) * 60 > deadline


def test_hpa_scales_on_cpu_between_min_and_max_and_only_when_they_differ() -> None:
    captured, _ = run_k8s(platform(endpoint(min_instances=2, max_instances=6)))
    hpa = by_name(captured, "ranker-hpa").inputs["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-dev-ranker"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert options(captured, by_name(captured, "ranker-deployment"))["ignoreChanges"] == ["spec.replicas"]
    fixed, _ = run_k8s(platform(endpoint(min_instances=2, max_instances=2)))
    assert of_type(fixed, "HorizontalPodAutoscaler") == []


def test_model_artifact_is_fetched_then_checked_and_unpacked_before_the_server_starts() -> None:
    captured, _ = run_k8s(platform(endpoint()))
    deployment = by_name(captured, "ranker-deployment")
    pod = deployment.inputs["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["fetch-model", "unpack-model"]
    fetch = container(deployment, "fetch-model", init=True)
    env = {e["name"]: e["value"] for e in fetch["env"]}
    assert env["MODEL_URI"] == MODELS["ranker-model"].uri
    assert env["MODEL_FILE"] == "model.tar.gz" and env["DOWNLOAD_DIR"] == "/mnt/models/.download"
    assert "aws s3 cp" in fetch["command"][-1]
    unpack = container(deployment, "unpack-model", init=True)
    assert unpack["command"][:3] == ["python3", "-I", "-c"] and unpack["command"][3] == model_endpoint.UNPACK_SCRIPT
    assert {e["name"]: e["value"] for e in unpack["env"]}["MODEL_SHA256"] == SHA
    server = container(deployment, "server")
    assert server["image"] == "ghcr.io/example/ranker:1.0.0"  # the promoted version's image
    assert {"name": "model", "mountPath": "/mnt/models", "readOnly": True} in server["volumeMounts"]
    assert server["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert server["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    annotations = deployment.inputs["spec"]["template"]["metadata"]["annotations"]
    assert annotations["mlplatform.io/model-sha256"] == SHA


def test_metrics_port_of_the_contract_is_declared_and_exposed() -> None:
    captured, _ = run_k8s(platform(endpoint(metrics=ServingMetrics(port=9100))))
    server = container(by_name(captured, "ranker-deployment"), "server")
    assert server["ports"] == [
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9100, "protocol": "TCP"},
    ]
    ports = by_name(captured, "ranker-service").inputs["spec"]["ports"]
    assert [(p["name"], p["port"]) for p in ports] == [("http", 80), ("metrics", 9100)]
    same, _ = run_k8s(platform(endpoint(metrics=ServingMetrics(port=8080))))
    assert [p["name"] for p in by_name(same, "ranker-service").inputs["spec"]["ports"]] == ["http"]


def test_serverless_inference_service_passes_what_knative_accepts_by_default() -> None:
    captured, _ = run_k8s(platform(endpoint(kserve=True, min_instances=2, max_instances=4, cpu="4")))
    assert of_type(captured, "apps/v1:Deployment") == []
    isvc = by_name(captured, "ranker-isvc")
    assert isvc.type == "kubernetes:serving.kserve.io/v1beta1:InferenceService"
    meta = isvc.inputs["metadata"]
    assert meta["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    assert meta["annotations"] == {
        "serving.kserve.io/deploymentMode": "Serverless",
        "pulumi.com/waitFor": "condition=Ready",
    }
    predictor = isvc.inputs["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 4)
    assert predictor["serviceAccountName"] == "shop-dev-ranker"
    # Knative's defaults: no pod securityContext, no priorityClassName, no init containers.
    assert {"securityContext", "priorityClassName", "initContainers", "storageUris"}.isdisjoint(predictor)
    server = container(isvc, "kserve-container")
    env = {e["name"]: e["value"] for e in server["env"]}
    assert "PORT" not in env  # reserved by Knative
    assert env["STORAGE_URI"] == MODELS["ranker-model"].uri  # the storage initializer's legacy input
    assert server["ports"] == [{"name": "http1", "containerPort": 8080, "protocol": "TCP"}]
    assert server["securityContext"]["runAsNonRoot"] is True
    assert server["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    amounts = {"cpu": "4", "memory": "2Gi"}
    assert server["resources"] == {"requests": amounts, "limits": amounts}


def test_the_inference_service_waits_for_its_service_account_and_role() -> None:
    # KServe reads the ServiceAccount's annotations when it injects the storage initializer and
    # skips them when the account does not exist yet (kserve CreateSecretVolumeAndEnv).
    captured, _ = run_k8s(platform(endpoint(kserve=True)))
    isvc = by_name(captured, "ranker-isvc")
    for name in ("ranker-sa", "ranker-model-reader", "ranker-model-read"):
        assert by_name(captured, name).urn in isvc.dependencies, name
    opts = options(captured, isvc)
    assert opts["customTimeouts"] == {"create": "20m", "update": "20m"}
    # KServe rejects a change of deploymentMode ("deploymentMode cannot be changed"): replaced instead.
    assert opts["replaceOnChanges"] == ["metadata.annotations"] and opts["deleteBeforeReplace"] is True
    plain, _ = run_k8s(platform(endpoint()))
    deployment = by_name(plain, "ranker-deployment")
    assert by_name(plain, "ranker-sa").urn in deployment.dependencies


def test_serverless_uses_the_knative_features_the_cluster_declares() -> None:
    features = ["kubernetes.podspec-securitycontext", "kubernetes.podspec-init-containers",
                "kubernetes.podspec-priorityclassname", "kubernetes.podspec-nodeselector",
                "kubernetes.podspec-tolerations"]  # fmt: skip
    kserve = KServe(version="0.16", knative_features=features)
    captured, _ = run_k8s(platform(endpoint(kserve=True, gpus=1), kubernetes=cluster(kserve=kserve)))
    predictor = by_name(captured, "ranker-isvc").inputs["spec"]["predictor"]
    assert predictor["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert predictor["priorityClassName"] == "shop-dev-serving"
    assert predictor["storageUris"] == [{"uri": MODELS["ranker-model"].uri, "mountPath": "/mnt/models"}]
    assert "STORAGE_URI" not in {
        e["name"] for e in container(by_name(captured, "ranker-isvc"), "kserve-container")["env"]
    }
    assert predictor["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    old = KServe(version="0.15", knative_features=features)
    captured, _ = run_k8s(platform(endpoint(kserve=True), kubernetes=cluster(kserve=old)))
    assert "storageUris" not in by_name(captured, "ranker-isvc").inputs["spec"]["predictor"]  # needs 0.16


def test_raw_deployment_inference_service_sets_pod_fields_and_the_metrics_port() -> None:
    raw = KServe(version="0.16", mode="RawDeployment")
    captured, _ = run_k8s(
        platform(endpoint(kserve=True, min_instances=2, max_instances=4), kubernetes=cluster(kserve=raw))
    )
    isvc = by_name(captured, "ranker-isvc")
    assert isvc.inputs["metadata"]["labels"]["networking.kserve.io/visibility"] == "cluster-local"
    assert isvc.inputs["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    predictor = isvc.inputs["spec"]["predictor"]
    assert predictor["priorityClassName"] == "shop-dev-serving"
    assert predictor["securityContext"]["runAsNonRoot"] is True
    assert predictor["storageUris"] == [{"uri": MODELS["ranker-model"].uri, "mountPath": "/mnt/models"}]
    server = container(isvc, "kserve-container")
    assert [p["name"] for p in server["ports"]] == ["http", "metrics"]
    assert {e["name"] for e in server["env"]} == {"MODEL_NAME", "MODEL_VERSION", "MODEL_DIR"}


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
    uri = MODELS["ranker-model"].uri
    bad = {"ranker-model": PromotedModel("7", uri, SHA, "ranker:latest")}
    with pytest.raises(MlplatformError, match=r"stack config mlplatform:models.ranker-model.image: 'ranker:latest'"):
        run_k8s(platform(endpoint()), models=bad)


def test_a_model_outside_the_environments_registry_is_refused() -> None:
    # The role reads only models/<model>/ of this environment's registry: any other URI would be
    # denied at run time, so the program stops and says where the URI came from.
    elsewhere = {"ranker-model": PromotedModel("7", "s3://someone-else/models/ranker-model/7/m.tar.gz", SHA, "r:1")}
    with pytest.raises(MlplatformError) as err:
        run_k8s(platform(endpoint()), models=elsewhere)
    assert str(err.value) == (
        "blueprints/shop.py [dev]: stack config mlplatform:models.ranker-model.uri is "
        "'s3://someone-else/models/ranker-model/7/m.tar.gz', outside the environment's registry "
        "(s3://shop-dev-model-registry-123456789012/models/ranker-model/...); ModelEndpoint 'ranker' may read "
        "only its model's prefix there. Promote the version with `mlplatform promote ranker-model`"
    )


def test_endpoint_without_a_promoted_model_is_skipped_with_a_warning() -> None:
    watched = MonitoringStack(name="watch", target="kubernetes", endpoints=["ranker"])
    captured, _ = run_k8s(platform(endpoint(), watched), models={})
    assert [r for r in captured.resources if "ranker" in r.name] == []
    assert [r for r in captured.resources if r.type.endswith("PriorityClass")] == []
    assert any(
        "ModelEndpoint 'ranker' skipped: model 'ranker-model' has no promoted version" in w for w in captured.warnings
    )
    assert any("endpoint 'ranker' was not built; not watched" in w for w in captured.warnings)
