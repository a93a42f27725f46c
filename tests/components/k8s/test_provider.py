"""One explicit Kubernetes provider for everything, from the blueprint's EKS cluster or the
stack config; a clear error when neither names a cluster."""

from __future__ import annotations

import pytest

from mlplatform.errors import MlplatformError
from mlplatform.spec.model_endpoint import ModelEndpoint
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.spec.platform import KubernetesCluster
from mlplatform.spec.training_cluster import TrainingCluster
from tests.components.k8s.helpers import by_name, cluster, platform, run_k8s

ENDPOINT = ModelEndpoint(name="ranker", model="ranker-model", target="kubernetes", max_instances=3)
TRAIN = TrainingCluster(name="train", target="kubernetes")
MONITOR = MonitoringStack(name="watch", target="kubernetes", endpoints=["ranker"], notify=["a@example.com"])


def kubernetes_objects(captured):  # type: ignore[no-untyped-def]
    return [r for r in captured.resources if r.type.startswith("kubernetes:")]


def test_kube_context_from_stack_config_is_the_provider_of_every_object() -> None:
    captured, _ = run_k8s(platform(ENDPOINT, TRAIN, MONITOR))
    providers = [r for r in captured.resources if r.type == "pulumi:providers:kubernetes"]
    assert [(p.name, p.inputs.get("context")) for p in providers] == [("shop-dev-kubernetes", "shop-dev")]
    assert providers[0].inputs["enableServerSideApply"] == "true"  # provider config travels as strings
    objects = kubernetes_objects(captured)
    assert len(objects) > 15
    for r in objects:
        assert r.provider and r.provider.startswith(providers[0].urn + "::"), f"{r.type} {r.name}: {r.provider}"


def test_components_parent_their_children_and_wait_for_the_namespace() -> None:
    captured, _ = run_k8s(platform(ENDPOINT, TRAIN, MONITOR))
    namespace = by_name(captured, "shop-dev-namespace")
    assert namespace.inputs["metadata"]["name"] == "shop-dev"
    components = {r.urn: r for r in captured.resources if r.type.startswith("mlplatform:k8s:")}
    assert sorted(r.type for r in components.values()) == [
        "mlplatform:k8s:ModelEndpoint",
        "mlplatform:k8s:MonitoringStack",
        "mlplatform:k8s:TrainingAlerts",
        "mlplatform:k8s:TrainingCluster",
        "mlplatform:k8s:TrainingControllers",
        "mlplatform:k8s:TrainingQueues",
        "mlplatform:k8s:TrainingRuntimes",
    ]
    # The training controllers are cluster-wide, installed beside the components.
    controllers = {
        "shop-dev-kueue-system",
        "shop-dev-kubeflow-system",
        "shop-dev-kueue",
        "shop-dev-kubeflow-trainer",
        "shop-dev-nvidia-device-plugin",
    }
    priority = by_name(captured, "shop-dev-serving-priority")  # platform-wide, like the namespace
    assert priority.inputs["metadata"]["name"] == "shop-dev-serving"
    for r in kubernetes_objects(captured):
        if r in (namespace, priority) or r.name in controllers:
            continue
        parent = components[r.parent]  # every object belongs to a component
        assert r.name.startswith(f"{parent.name}-"), r.name
        assert namespace.urn in r.dependencies, f"{r.name} does not wait for the namespace"


def test_kubeconfig_from_stack_config_is_passed_as_a_secret() -> None:
    captured, _ = run_k8s(platform(ENDPOINT), config={"mlplatform:kubeconfig": "/etc/kube/shop.yaml"})
    provider = by_name(captured, "shop-dev-kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert "context" not in provider.inputs


def test_eks_training_cluster_provider_published_by_the_aws_side_is_used() -> None:
    eks = TrainingCluster(name="gpu", target="eks")
    p = platform(eks, ENDPOINT, kubernetes=KubernetesCluster(training_cluster="gpu"))
    captured, _ = run_k8s(p, config={}, eks_provider="gpu")
    providers = [r for r in captured.resources if r.type == "pulumi:providers:kubernetes"]
    assert [r.name for r in providers] == ["eks-cluster"]  # no second provider from config
    for r in kubernetes_objects(captured):
        assert r.provider.startswith(providers[0].urn + "::"), r.name


def test_eks_training_cluster_without_a_published_provider_fails_clearly() -> None:
    p = platform(
        TrainingCluster(name="gpu", target="eks"), ENDPOINT, kubernetes=KubernetesCluster(training_cluster="gpu")
    )
    with pytest.raises(MlplatformError, match=r"training_cluster names 'gpu', but no Kubernetes provider"):
        run_k8s(p, config={})


def test_no_cluster_configured_fails_naming_the_stack_config_keys() -> None:
    with pytest.raises(MlplatformError) as err:
        run_k8s(platform(ENDPOINT, TRAIN), config={})
    message = str(err.value)
    assert "ModelEndpoint 'ranker', TrainingCluster 'train' target kubernetes" in message
    assert "mlplatform:kubeContext" in message and "mlplatform:kubeconfig" in message
    assert message.startswith("blueprints/shop.py [dev]:")


def test_a_platform_without_kubernetes_components_needs_no_cluster() -> None:
    captured, _ = run_k8s(platform(ModelEndpoint(name="scorer", model="ranker-model")), config={})
    assert captured.resources == []


def test_namespace_from_the_blueprint_and_pod_security_enforced() -> None:
    captured, _ = run_k8s(platform(ENDPOINT, kubernetes=cluster(namespace="search")))
    ns = by_name(captured, "shop-dev-namespace").inputs["metadata"]
    assert ns["name"] == "search"
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert by_name(captured, "ranker-deployment").inputs["metadata"]["namespace"] == "search"


def test_pulumis_own_kubernetes_config_is_honoured() -> None:
    # pulumi-kubernetes reads kubernetes:context / kubernetes:kubeconfig for its default provider
    # only; an explicit provider gets them from the program (Pulumi Kubernetes provider config docs).
    captured, _ = run_k8s(platform(ENDPOINT), config={"kubernetes:context": "shop-dev-admin"})
    provider = by_name(captured, "shop-dev-kubernetes")
    assert provider.inputs["context"] == "shop-dev-admin"
    captured, _ = run_k8s(platform(ENDPOINT), config={"kubernetes:kubeconfig": "/etc/kube/shop.yaml"})
    assert by_name(captured, "shop-dev-kubernetes").inputs["kubeconfig"] == "[secret]"


def test_the_same_context_in_both_keys_is_accepted_and_different_ones_are_refused() -> None:
    same = {"mlplatform:kubeContext": "shop-dev", "kubernetes:context": "shop-dev"}
    captured, _ = run_k8s(platform(ENDPOINT), config=same)
    assert by_name(captured, "shop-dev-kubernetes").inputs["context"] == "shop-dev"
    with pytest.raises(MlplatformError) as err:
        run_k8s(platform(ENDPOINT), config={"mlplatform:kubeContext": "shop-dev", "kubernetes:context": "prod"})
    assert str(err.value) == (
        "blueprints/shop.py [dev]: stack config mlplatform:kubeContext is 'shop-dev' but kubernetes:context "
        "is 'prod'; set one of them, or the same context in both"
    )
