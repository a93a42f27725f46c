"""NetworkPolicies of serving pods: callers in, and out only DNS, HTTPS and the feature stores."""

from __future__ import annotations

from typing import Any

import pytest

from mlplatform.plan.engine import Captured
from mlplatform.spec.cluster import KServe, PodIdentity, Prometheus
from mlplatform.spec.feature_store import FeatureStore
from mlplatform.spec.model_endpoint import ModelEndpoint, ServingMetrics
from mlplatform.spec.monitoring import MonitoringStack
from tests.components.k8s import manifests
from tests.components.k8s.conftest import STACKS, example
from tests.components.k8s.helpers import by_name, cluster, platform, run_k8s

DNS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}
HTTPS = {
    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}, {"ipBlock": {"cidr": "::/0"}}],
    "ports": [{"protocol": "TCP", "port": 443}],
}
# The EKS Pod Identity agent answers on the node's link-local address, port 80 (EKS User Guide).
POD_IDENTITY_AGENT = {
    "to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}, {"ipBlock": {"cidr": "fd00:ec2::23/128"}}],
    "ports": [{"protocol": "TCP", "port": 80}],
}
STORE = FeatureStore(name="features", target="kubernetes", online_store="redis")


def endpoint(**kwargs: Any) -> ModelEndpoint:
    base: dict[str, Any] = {"name": "ranker", "model": "ranker-model", "target": "kubernetes"}
    return ModelEndpoint(**{**base, **kwargs})


def tcp(port: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port}]


def peers(rule: dict[str, Any]) -> list[str]:
    return [p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in rule["from"]]


def test_plain_endpoint_admits_its_namespace_callers_and_the_declared_prometheus() -> None:
    watched = MonitoringStack(name="watch", target="kubernetes", endpoints=["ranker"])
    p = platform(
        endpoint(allowed_callers=["frontend", "batch"]),
        watched,
        kubernetes=cluster(prometheus=Prometheus(namespace="observability")),
    )
    captured, _ = run_k8s(p)
    spec = by_name(captured, "ranker-netpol").inputs["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert [(peers(r), r["ports"]) for r in spec["ingress"]] == [
        (["shop-dev", "frontend", "batch"], [{"protocol": "TCP", "port": 8080}]),
        (["observability"], [{"protocol": "TCP", "port": 8082}]),  # the metrics port of the contract
    ]
    alone, _ = run_k8s(platform(endpoint()))
    assert len(by_name(alone, "ranker-netpol").inputs["spec"]["ingress"]) == 1


def test_egress_is_dns_https_out_and_the_platforms_redis() -> None:
    # Kubernetes NetworkPolicy: with Egress in policyTypes, only the listed egress is allowed.
    captured, _ = run_k8s(platform(endpoint(), STORE))
    egress = by_name(captured, "ranker-netpol").inputs["spec"]["egress"]
    redis = {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop-dev"}},
                "podSelector": {
                    "matchLabels": {
                        "app.kubernetes.io/name": "features",
                        "app.kubernetes.io/instance": "shop-dev-features-redis",
                    }
                },
            }
        ],
        "ports": [{"protocol": "TCP", "port": 6379}],
    }
    assert egress == [DNS, HTTPS, redis]
    # The Redis pods carry exactly those labels.
    sts = by_name(captured, "features-redis").inputs["spec"]["template"]["metadata"]["labels"]
    assert redis["to"][0]["podSelector"]["matchLabels"].items() <= sts.items()
    without, _ = run_k8s(platform(endpoint()))
    assert by_name(without, "ranker-netpol").inputs["spec"]["egress"] == [DNS, HTTPS]


def test_serverless_pods_admit_knatives_activator_and_gateway_on_the_queue_proxy_ports() -> None:
    # Every request to a Serverless revision enters through the activator (knative-serving) or the
    # ingress gateway to queue-proxy's 8012/8013/8112; the autoscaler scrapes 9090.
    kserve = KServe(ingress_namespace="kourier-system")
    watched = MonitoringStack(name="watch", target="kubernetes", endpoints=["ranker"])
    p = platform(endpoint(kserve=True, metrics=ServingMetrics(port=8080)), watched, kubernetes=cluster(kserve=kserve))
    captured, _ = run_k8s(p)
    spec = by_name(captured, "ranker-netpol").inputs["spec"]
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "ranker",
        "app.kubernetes.io/instance": "shop-dev-ranker",
    }
    assert [(peers(r), [x["port"] for x in r["ports"]]) for r in spec["ingress"]] == [
        (["kourier-system"], [8012, 8013, 8112]),
        (["knative-serving"], [8012, 8013, 8112, 9090]),
        (["monitoring"], [8080]),
    ]
    assert spec["egress"] == [DNS, HTTPS]
    # The predictor's pods carry the labels the policy selects.
    labels = by_name(captured, "ranker-isvc").inputs["spec"]["predictor"]["labels"]
    assert spec["podSelector"]["matchLabels"].items() <= labels.items()


def test_raw_deployment_pods_honour_allowed_callers() -> None:
    raw = KServe(mode="RawDeployment")
    captured, _ = run_k8s(platform(endpoint(kserve=True, allowed_callers=["api"]), kubernetes=cluster(kserve=raw)))
    ingress = by_name(captured, "ranker-netpol").inputs["spec"]["ingress"]
    assert [(peers(r), r["ports"]) for r in ingress] == [(["shop-dev", "api"], [{"protocol": "TCP", "port": 8080}])]


@pytest.mark.parametrize("stack", STACKS)
def test_every_serving_pod_of_the_examples_has_restricted_egress(programs: dict[str, Captured], stack: str) -> None:
    # Kubernetes "Network Policies": with Egress in policyTypes only the listed destinations are
    # reachable. Out: DNS, HTTPS (S3, STS), the Pod Identity agent when declared, the Redis stores.
    ex, captured = example(stack), programs[stack]
    declared = ex.spec.kubernetes
    agent = [POD_IDENTITY_AGENT] if isinstance(declared.workload_identity, PodIdentity) else []
    stores = [s for s in ex.spec.of_kind(FeatureStore) if s.target == "kubernetes" and s.online_store == "redis"]
    assert stores and ex.endpoints
    watched = {name for m in ex.spec.of_kind(MonitoringStack) for name in m.endpoints}
    for ep in ex.endpoints:
        spec = by_name(captured, f"{ep.name}-netpol").inputs["spec"]
        assert spec["policyTypes"] == ["Ingress", "Egress"], ep.name
        assert spec["egress"][: 2 + len(agent)] == [DNS, HTTPS, *agent], ep.name
        assert [r["ports"] for r in spec["egress"][2 + len(agent) :]] == [tcp(6379)] * len(stores), ep.name
        # In: the callers on the serving port (Knative's activator and gateway in Serverless mode),
        # and the declared Prometheus on the metrics port.
        if not (ep.kserve and declared.kserve.mode == "Serverless"):
            assert (peers(spec["ingress"][0]), spec["ingress"][0]["ports"]) == (
                [ex.prefix, *ep.allowed_callers],
                tcp(ep.port),
            ), ep.name
        if ep.name in watched:
            assert (peers(spec["ingress"][-1]), spec["ingress"][-1]["ports"]) == (
                [declared.prometheus.namespace],
                tcp(ep.metrics.port),
            ), ep.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_serving_and_feature_pod_of_the_examples_is_selected_by_an_egress_policy(
    programs: dict[str, Captured], stack: str
) -> None:
    # Kubernetes "Network Policies": a pod is isolated for egress once a policy with Egress in
    # policyTypes selects it; each rule then names its destinations and ports (a rule without
    # `to` or `ports` would allow every destination or port).
    ex, captured = example(stack), programs[stack]
    rendered = [manifests.render(r) for r in captured.resources if manifests.is_kubernetes_object(r)]
    policies = [m for m in rendered if m["kind"] == "NetworkPolicy" and m["metadata"]["namespace"] == ex.prefix]
    pods = {}
    for m in rendered:
        if m["metadata"].get("namespace") != ex.prefix:
            continue
        if m["kind"] in ("Deployment", "StatefulSet"):
            pods[f"{m['kind']} {m['metadata']['name']}"] = m["spec"]["template"]["metadata"]["labels"]
        elif m["kind"] == "InferenceService":
            pods[f"{m['kind']} {m['metadata']['name']}"] = m["spec"]["predictor"]["labels"]
    assert len(pods) == len(ex.endpoints) + 1, pods  # the endpoints and Redis
    for where, labels in pods.items():
        selecting = [p for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()]
        egress = [p for p in selecting if "Egress" in p["spec"]["policyTypes"]]
        assert egress, f"{where}: no NetworkPolicy restricts its egress"
        for p in egress:
            for rule in p["spec"].get("egress", []):
                assert rule.get("to") and rule.get("ports"), f"{where}: {p['metadata']['name']} allows {rule}"
