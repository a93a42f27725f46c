"""NetworkPolicies of serving pods: who may call them, and the little they may reach.

Ingress: the endpoint's namespace and `allowed_callers` on the serving port, Prometheus on the
metrics port; for KServe Serverless, Knative's activator and ingress gateway on the
queue-proxy's ports instead (every request reaches the pod through them, so callers cannot be
told apart by a NetworkPolicy there). Egress: DNS, HTTPS out of the cluster (S3 and STS for the
model and its credentials; the instance metadata service excluded), the EKS Pod Identity agent
where that is how pods get credentials, and the platform's Redis feature stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Kubernetes sets this label on every namespace (1.22+); a namespace's owner cannot forge it.
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
DNS_NAMESPACE = "kube-system"
DNS_PODS = {"k8s-app": "kube-dns"}  # CoreDNS on EKS and kubeadm clusters
INSTANCE_METADATA = "169.254.169.254/32"
# The EKS Pod Identity agent listens on the node's link-local address (EKS User Guide, "Set up the
# Amazon EKS Pod Identity Agent": 169.254.170.23 port 80, and fd00:ec2::23 on IPv6).
POD_IDENTITY_AGENT = ("169.254.170.23/32", "fd00:ec2::23/128")
POD_IDENTITY_PORT = 80


def namespace_peer(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: namespace}}}


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


@dataclass(frozen=True)
class Peers:
    """Where the traffic of a serving pod comes from and goes to."""

    namespace: str  # the endpoint's
    serving_port: int
    metrics_port: int
    callers: list[str] = field(default_factory=list)  # allowed_callers
    prometheus_namespace: str | None = None  # set when a MonitoringStack scrapes the endpoint
    # KServe Serverless: (activator/autoscaler namespace, ingress gateway namespace, queue-proxy ports)
    knative: tuple[str, str, tuple[int, ...], int] | None = None
    pod_identity: bool = False
    redis: list[tuple[dict[str, str], int]] = field(default_factory=list)  # (pod selector, port)


def ingress(p: Peers) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if p.knative is not None:
        serving_ns, ingress_ns, queue_ports, autoscaler_port = p.knative
        rules.append({"from": [namespace_peer(ingress_ns)], "ports": tcp(*queue_ports)})
        rules.append({"from": [namespace_peer(serving_ns)], "ports": tcp(*queue_ports, autoscaler_port)})
    else:
        callers = [p.namespace, *(c for c in p.callers if c != p.namespace)]
        rules.append({"from": [namespace_peer(ns) for ns in callers], "ports": tcp(p.serving_port)})
    if p.prometheus_namespace:
        rules.append({"from": [namespace_peer(p.prometheus_namespace)], "ports": tcp(p.metrics_port)})
    return rules


def egress(p: Peers) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "to": [{**namespace_peer(DNS_NAMESPACE), "podSelector": {"matchLabels": dict(DNS_PODS)}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        {
            # S3 and STS have no fixed addresses: HTTPS anywhere outside, but not the node's
            # instance metadata service (pods get credentials from their own role only).
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [INSTANCE_METADATA]}}, {"ipBlock": {"cidr": "::/0"}}],
            "ports": tcp(443),
        },
    ]
    if p.pod_identity:
        rules.append(
            {"to": [{"ipBlock": {"cidr": cidr}} for cidr in POD_IDENTITY_AGENT], "ports": tcp(POD_IDENTITY_PORT)}
        )
    for selector, port in p.redis:
        rules.append(
            {
                "to": [{**namespace_peer(p.namespace), "podSelector": {"matchLabels": dict(selector)}}],
                "ports": tcp(port),
            }
        )
    return rules


def policy_spec(pod_selector: dict[str, str], peers: Peers) -> dict[str, Any]:
    return {
        "podSelector": {"matchLabels": dict(pod_selector)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress(peers),
        "egress": egress(peers),
    }
