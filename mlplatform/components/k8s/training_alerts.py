"""Alerts on training, for the Prometheus Operator: failed training jobs and workloads that wait
in a Kueue queue too long, routed like the MonitoringStack's endpoint alerts to its `notify`.

What the rules read, as the controllers export it (their source at the pinned versions):
- JobSet (v0.12.0, pkg/metrics): counter `jobset_failed_total{jobset_name, namespace}`, one
  series per failed JobSet. A TrainJob runs as a JobSet of its own name and namespace, so a
  failed TrainJob is a new series here. Kubeflow Trainer (v2.3.0) exports no job metrics of
  its own.
- Kueue (v0.19.2, pkg/metrics): gauge `kueue_pending_workloads{cluster_queue, status}`, the
  workloads waiting for admission (status active or inadmissible) per ClusterQueue; the
  platform's ClusterQueue is named after its namespace (training_queues.py).

Both controllers serve metrics on 8443 over HTTPS behind controller-runtime's authentication
and authorization filter: the ServiceMonitors scrape as the charts' own ones do (the Prometheus
service account's token; a self-signed serving certificate), and Prometheus's ClusterRole must
allow `get` on the /metrics non-resource URL (kube-prometheus-stack's does). The JobSet monitor
honours the scraped labels so `namespace` stays the job's namespace rather than the controller's.

Routing: the AlertmanagerConfig lives in the platform namespace and the operator adds
`namespace="<that namespace>"` to its route, so every training alert carries that namespace
(rule labels overwrite the series' own) and keeps the job's as `training_namespace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components import charts
from mlplatform.components.k8s import common
from mlplatform.spec.cluster import Prometheus
from mlplatform.spec.training_equipment import TrainingEquipment

PENDING_MINUTES = 30  # a queue that has had workloads waiting this long, without a break
FAILED_WINDOW = "15m"  # how long a newly failed job keeps its alert firing
SCRAPE_INTERVAL = "30s"
# The Prometheus Operator's way to scrape with the Prometheus pod's service-account token.
TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"


@dataclass(frozen=True)
class WatchedQueue:
    """A TrainingCluster as its alerts know it."""

    cluster: str  # blueprint name
    namespace: str  # where its jobs run
    cluster_queue: str


@dataclass(frozen=True)
class Scraped:
    """A controller's metrics Service, as its chart labels it."""

    name: str
    namespace: str
    labels: dict[str, str]
    honor_labels: bool = False


def scraped(declared: TrainingEquipment) -> list[Scraped]:
    """Kueue's metrics Service (chart `kueue`, release `kueue`) and JobSet's: inside Kubeflow
    Trainer's release (subchart with fullnameOverride `jobset`), or JobSet's own chart installed
    as its docs do (release `jobset` in `jobset-system`) when the cluster declares it runs alone."""
    kueue = Scraped(
        "kueue",
        charts.KUEUE.namespace,
        {
            "app.kubernetes.io/name": "kueue",
            "app.kubernetes.io/instance": charts.KUEUE.release,
            "app.kubernetes.io/component": "metrics-service",
        },
    )
    jobset_release, jobset_namespace = (
        ("jobset", "jobset-system")
        if declared.jobset
        else (charts.KUBEFLOW_TRAINER.release, charts.KUBEFLOW_TRAINER.namespace)
    )
    jobset = Scraped(
        "jobset",
        jobset_namespace,
        {
            "app.kubernetes.io/name": "jobset",
            "app.kubernetes.io/instance": jobset_release,
            "app.kubernetes.io/component": "controller",
        },
        honor_labels=True,
    )
    return [kueue, jobset]


def service_monitor_spec(target: Scraped) -> dict[str, Any]:
    endpoint: dict[str, Any] = {
        "port": "https",
        "path": "/metrics",
        "scheme": "https",
        "interval": SCRAPE_INTERVAL,
        "bearerTokenFile": TOKEN_FILE,
        # controller-runtime serves a self-signed certificate unless cert-manager issues one.
        "tlsConfig": {"insecureSkipVerify": True},
    }
    if target.honor_labels:
        endpoint["honorLabels"] = True
    return {
        "selector": {"matchLabels": dict(target.labels)},
        "namespaceSelector": {"matchNames": [target.namespace]},
        "endpoints": [endpoint],
    }


def alert_rules(queue: WatchedQueue, scope: common.Scope) -> list[dict[str, Any]]:
    labels = {
        "platform": scope.platform,
        "environment": scope.env,
        "namespace": scope.namespace,  # the AlertmanagerConfig's: its route matches on it
        "training_cluster": queue.cluster,
        "training_namespace": queue.namespace,
    }
    failed = f'jobset_failed_total{{namespace="{queue.namespace}"}}'
    pending = f'kueue_pending_workloads{{cluster_queue="{queue.cluster_queue}"}}'
    return [
        {
            "alert": "TrainingJobFailed",
            # One series per JobSet, born at 1 when it fails: increase() cannot see that first
            # step, so a series absent a window ago counts too.
            "expr": f"({failed} unless {failed} offset {FAILED_WINDOW}) or increase({failed}[{FAILED_WINDOW}]) > 0",
            "for": "0m",
            "labels": {**labels, "severity": "warning"},
            "annotations": {
                "summary": f"Training job {{{{ $labels.jobset_name }}}} failed in {queue.namespace}",
                "description": f"TrainJob/JobSet {{{{ $labels.jobset_name }}}} of TrainingCluster {queue.cluster} "
                f"failed ({scope.platform} {scope.env}); `kubectl -n {queue.namespace} get trainjob "
                f"{{{{ $labels.jobset_name }}}} -o yaml` shows why.",
            },
        },
        {
            "alert": "TrainingWorkloadsPendingTooLong",
            # Several controller replicas may each report the queue: take one value per queue.
            "expr": f"max by (cluster_queue) ({pending}) > 0",
            "for": f"{PENDING_MINUTES}m",
            "labels": {**labels, "severity": "warning"},
            "annotations": {
                "summary": f"Workloads have waited in queue {queue.cluster_queue} for {PENDING_MINUTES} minutes",
                "description": f"ClusterQueue {queue.cluster_queue} of TrainingCluster {queue.cluster} has had "
                f"{{{{ $value }}}} or more workloads pending for {PENDING_MINUTES} minutes without a break "
                f"({scope.platform} {scope.env}): the quota is used up or a job asks for more than it grants.",
            },
        },
    ]


@dataclass(frozen=True)
class TrainingAlertsArgs:
    scope: common.Scope
    prometheus: Prometheus  # the declared Prometheus Operator stack
    queues: list[WatchedQueue] = field(default_factory=list)
    equipment: TrainingEquipment = field(default_factory=TrainingEquipment)


class TrainingAlerts(pulumi.ComponentResource):
    """Outputs: `prometheus_rule`, `service_monitors`."""

    def __init__(self, name: str, args: TrainingAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:TrainingAlerts", name, None, opts)
        scope = args.scope
        physical = f"{scope.names.prefix}-training-alerts"
        labels = scope.labels(name="training-alerts", instance=physical, component="training")
        selected = dict(args.prometheus.selector_labels)  # what the cluster's Prometheus selects
        child = common.child_options(self, opts)

        def meta(object_name: str) -> dict[str, Any]:
            return {"name": object_name, "namespace": scope.namespace, "labels": {**labels, **selected}}

        self.service_monitors = [
            k8s.apiextensions.CustomResource(
                f"{name}-{target.name}-monitor",
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata=meta(f"{physical}-{target.name}"),
                spec=service_monitor_spec(target),
                opts=child,
            )
            for target in scraped(args.equipment)
        ]
        self.prometheus_rule = k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata=meta(physical),
            spec={
                "groups": [
                    {"name": f"{physical}-{q.cluster}", "rules": alert_rules(q, scope)}
                    for q in sorted(args.queues, key=lambda q: q.cluster)
                ]
            },
            opts=child,
        )
        self.register_outputs(
            {"prometheus_rule": physical, "service_monitors": [f"{physical}-{t.name}" for t in scraped(args.equipment)]}
        )
