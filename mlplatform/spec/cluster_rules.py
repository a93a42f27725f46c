"""Rules holding Kubernetes components to what the declared cluster offers (`Platform.kubernetes`).

A feature the cluster cannot provide is an error on the field that asks for it, never a silent
no-op: each message says what the cluster (or its operator) would do, and what would work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from mlplatform.spec.model_endpoint import AllAtOnce, ModelEndpoint
from mlplatform.spec.monitoring import MonitoringStack

if TYPE_CHECKING:
    from mlplatform.spec.platform import Platform
    from mlplatform.spec.rules import Context

Finding = tuple[tuple[Any, ...], str]

# Ports Knative's queue-proxy takes in every Serverless pod (knative/serving k8s_validation.go
# reservedPorts: 8012, 8013, 8022, 9090, 9091, and 8008 for profiling).
KNATIVE_RESERVED_PORTS = (8008, 8012, 8013, 8022, 9090, 9091)
NODE_SELECTOR = "kubernetes.podspec-nodeselector"
TOLERATIONS = "kubernetes.podspec-tolerations"
PRIORITY_CLASS = "kubernetes.podspec-priorityclassname"


def _at(i: int, *field: Any) -> tuple[Any, ...]:
    return ("components", i, *field)


def kubernetes_capabilities(p: Platform, ctx: Context) -> Iterator[Finding]:
    cluster = p.kubernetes
    ks = cluster.kserve
    serverless = ks.mode == "Serverless"
    for i, c in enumerate(p.components):
        if isinstance(c, MonitoringStack) and c.target == "kubernetes" and cluster.prometheus.smtp is None:
            for j, target in enumerate(c.notify):
                if not target.startswith("https://"):
                    yield (
                        _at(i, "notify", j),
                        f"'{target}' is an email, and Alertmanager cannot send email: Platform.kubernetes.prometheus."
                        "smtp is not declared (the Prometheus Operator rejects an email receiver without a smarthost); "
                        "declare Smtp(smarthost=..., from_address=...) or notify an https webhook",
                    )
        if not isinstance(c, ModelEndpoint) or c.target != "kubernetes":
            continue
        yield from _rollout(i, c)
        if c.allowed_callers and not cluster.network_policies:
            yield (
                _at(i, "allowed_callers"),
                "the cluster does not enforce NetworkPolicies (Platform.kubernetes.network_policies=False), so "
                "nothing would keep other callers out; enable a network plugin that enforces them, or remove "
                "allowed_callers",
            )
        autoscaled = c.max_instances > c.min_instances
        if autoscaled and not cluster.metrics_server and not (c.kserve and serverless):
            yield (
                _at(i, "max_instances"),
                f"autoscaling between {c.min_instances} and {c.max_instances} replicas scales on CPU, which needs "
                "metrics-server, and Platform.kubernetes.metrics_server says the cluster has none; install it, or "
                f"set max_instances={c.min_instances}",
            )
        if c.kserve and serverless:
            yield from _knative(i, c, ks.knative_features)


def _rollout(i: int, c: ModelEndpoint) -> Iterator[Finding]:
    if not isinstance(c.deployment, AllAtOnce):
        yield (
            _at(i, "deployment"),
            f"a {c.deployment.strategy} rollout needs something that promotes the new version after the bake or "
            "rolls it back, which Kubernetes targets do not have: a Deployment only surges, a KServe canary stays "
            "at its share until the InferenceService changes again; use AllAtOnce() (new pods replace old ones "
            "once ready, capacity never drops) and `mlplatform rollback` to revert",
        )
    elif "bake_minutes" in c.deployment.model_fields_set:
        yield (
            _at(i, "deployment", "bake_minutes"),
            "Kubernetes rollouts are not baked and rolled back on alarms (the rollout completes when the new pods "
            "are ready); remove bake_minutes, and revert with `mlplatform rollback`",
        )


def _knative(i: int, c: ModelEndpoint, features: Sequence[str]) -> Iterator[Finding]:
    how = "Platform.kubernetes.kserve.knative_features once Knative's config-features enables"
    if c.port in KNATIVE_RESERVED_PORTS:
        yield (
            _at(i, "port"),
            f"port {c.port} is taken by Knative's queue-proxy in KServe Serverless mode (reserved: "
            f"{', '.join(map(str, KNATIVE_RESERVED_PORTS))}); use another port, e.g. 8080",
        )
    if c.metrics.port != c.port:
        yield (
            _at(i, "metrics", "port"),
            f"Knative lets the serving container declare one port, so in KServe Serverless mode Prometheus can "
            f"scrape only port {c.port}; serve the metrics there (metrics=ServingMetrics(port={c.port}, ...)), or "
            "declare Platform.kubernetes.kserve.mode='RawDeployment'",
        )
    if c.allowed_callers:
        yield (
            _at(i, "allowed_callers"),
            "in KServe Serverless mode every request reaches the pods through Knative's activator and ingress "
            "gateway, so a NetworkPolicy cannot tell callers apart; use RawDeployment mode (or a service-mesh "
            "authorization policy) to restrict callers, or remove allowed_callers",
        )
    if c.gpus and not {NODE_SELECTOR, TOLERATIONS} <= set(features):
        missing = [f for f in (NODE_SELECTOR, TOLERATIONS) if f not in features]
        yield (
            _at(i, "gpus"),
            f"GPU pods need a node selector and tolerations, which Knative refuses unless its config-features "
            f"enables {' and '.join(missing)}; add them to {how} them",
        )
    if PRIORITY_CLASS not in features:
        yield (
            _at(i, "kserve"),
            f"serving pods outrank training through a priorityClassName, which Knative refuses unless its "
            f"config-features enables {PRIORITY_CLASS}; add it to {how} it, or declare "
            "Platform.kubernetes.kserve.mode='RawDeployment'",
        )


def workload_identity(p: Platform, ctx: Context) -> Iterator[Finding]:
    cluster = p.kubernetes
    if cluster.workload_identity is not None or cluster.training_cluster is not None:
        return
    served = [c.name for c in p.components if isinstance(c, ModelEndpoint) and c.target == "kubernetes"]
    if served:
        yield (
            ("kubernetes", "workload_identity"),
            f"Kubernetes endpoints ({', '.join(served)}) read their model from the KMS-encrypted registry and need "
            "AWS credentials; declare Irsa(oidc_issuer=...) (the cluster's IAM OIDC provider) or "
            "PodIdentity(cluster_name=...) (EKS Pod Identity)",
        )
