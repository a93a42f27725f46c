"""MonitoringStack on Kubernetes, for the Prometheus Operator: alert rules, scrape config,
Alertmanager routing and a Grafana dashboard for the watched endpoints.

Metrics the rules read: the serving container's Prometheus HTTP metrics at /metrics
(`http_request_duration_seconds_bucket`, `http_requests_total` with a `code` label), scraped by
the ServiceMonitor (which adds `namespace` and `service`), and kube-state-metrics for restarts
and replica counts. Every alert carries `platform`, `environment`, `endpoint` and `severity`
labels; the AlertmanagerConfig routes this platform's alerts to the notify targets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components.k8s import common
from mlplatform.spec.monitoring import MonitoringStack as MonitoringSpec

LATENCY_METRIC = "http_request_duration_seconds_bucket"
REQUESTS_METRIC = "http_requests_total"
RESTARTS_IN_15M = 2
SCRAPE_INTERVAL = "30s"


@dataclass(frozen=True)
class WatchedEndpoint:
    """What monitoring needs to know about an endpoint the program built."""

    name: str  # blueprint name
    physical: str  # object name in the cluster
    namespace: str
    kserve: bool
    port: int
    max_replicas: int
    autoscaled: bool  # an HPA (plain) or KServe autoscaler scales it

    @property
    def service_matcher(self) -> str:
        # KServe (Knative) creates one service per revision: <isvc>-predictor-00001-private, ...
        if self.kserve:
            return f'service=~"{self.physical}-predictor.*"'
        return f'service="{self.physical}"'


@dataclass(frozen=True)
class MonitoringStackArgs:
    spec: MonitoringSpec
    scope: common.Scope
    endpoints: list[WatchedEndpoint] = field(default_factory=list)


def alert_rules(spec: MonitoringSpec, ep: WatchedEndpoint, scope: common.Scope) -> list[dict[str, Any]]:
    sel = f'namespace="{ep.namespace}",{ep.service_matcher}'
    window = "5m"
    labels = {
        "platform": scope.platform,
        "environment": scope.env,
        "endpoint": ep.name,
    }

    def rule(alert: str, expr: str, for_: str, severity: str, summary: str) -> dict[str, Any]:
        return {
            "alert": alert,
            "expr": expr,
            "for": for_,
            "labels": {**labels, "severity": severity},
            "annotations": {"summary": summary, "description": f"{summary} ({scope.platform} {scope.env})."},
        }

    latency_s = spec.latency_p99_ms / 1000
    rules = [
        rule(
            "ModelEndpointLatencyP99High",
            f"histogram_quantile(0.99, sum by (le) (rate({LATENCY_METRIC}{{{sel}}}[{window}]))) > {latency_s:g}",
            "10m",
            "critical",
            f"Endpoint {ep.name}: p99 latency above {spec.latency_p99_ms:g} ms",
        ),
        rule(
            "ModelEndpointErrorRateHigh",
            f'100 * sum(rate({REQUESTS_METRIC}{{{sel},code=~"5.."}}[{window}])) '
            f"/ sum(rate({REQUESTS_METRIC}{{{sel}}}[{window}])) > {spec.error_rate_percent:g}",
            "5m",
            "critical",
            f"Endpoint {ep.name}: more than {spec.error_rate_percent:g}% of requests fail with 5xx",
        ),
        rule(
            "ModelEndpointNoTraffic",
            f"(sum(rate({REQUESTS_METRIC}{{{sel}}}[{window}])) or vector(0)) == 0",
            f"{spec.no_traffic_minutes}m",
            "warning",
            f"Endpoint {ep.name}: no requests for {spec.no_traffic_minutes} minutes",
        ),
        rule(
            "ModelEndpointPodRestarts",
            f'increase(kube_pod_container_status_restarts_total{{namespace="{ep.namespace}",'
            f'pod=~"{ep.physical}-.*"}}[15m]) > {RESTARTS_IN_15M}',
            "0m",
            "warning",
            f"Endpoint {ep.name}: a container restarted more than {RESTARTS_IN_15M} times in 15 minutes",
        ),
    ]
    if ep.autoscaled:
        if ep.kserve:
            at_max = (
                f'sum(kube_deployment_status_replicas{{namespace="{ep.namespace}",'
                f'deployment=~"{ep.physical}-predictor.*"}}) >= {ep.max_replicas}'
            )
        else:
            hpa = f'namespace="{ep.namespace}",horizontalpodautoscaler="{ep.physical}"'
            at_max = (
                f"kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} "
                f">= kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}"
            )
        rules.append(
            rule(
                "ModelEndpointAtMaxReplicas",
                at_max,
                "15m",
                "warning",
                f"Endpoint {ep.name}: running at its maximum of {ep.max_replicas} replicas",
            )
        )
    return rules


def dashboard(title: str, endpoints: list[WatchedEndpoint]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    queries = [
        ("p99 latency (s)", "histogram_quantile(0.99, sum by (le) (rate({m}{{{s}}}[5m])))", LATENCY_METRIC),
        ("requests/s", "sum(rate({m}{{{s}}}[5m]))", REQUESTS_METRIC),
        ("5xx/s", 'sum(rate({m}{{{s},code=~"5.."}}[5m]))', REQUESTS_METRIC),
    ]
    for row, ep in enumerate(endpoints):
        sel = f'namespace="{ep.namespace}",{ep.service_matcher}'
        for col, (label, template, metric) in enumerate(queries):
            panels.append(
                {
                    "id": len(panels) + 1,
                    "type": "timeseries",
                    "title": f"{ep.name}: {label}",
                    "gridPos": {"h": 8, "w": 8, "x": col * 8, "y": row * 8},
                    "targets": [{"refId": "A", "expr": template.format(m=metric, s=sel)}],
                }
            )
    return {
        "title": title,
        "uid": title[:40],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }


class MonitoringStack(pulumi.ComponentResource):
    """Outputs: `prometheus_rule`, `service_monitors`, `alertmanager_config`, `dashboard`."""

    def __init__(self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:MonitoringStack", name, None, opts)
        spec, scope = args.spec, args.scope
        physical = f"{scope.names.prefix}-{spec.name}"
        ns = scope.namespace
        labels = scope.labels(name=spec.name, instance=physical, component="monitoring")
        child = common.child_options(self, opts)

        def meta(object_name: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
            return {"name": object_name, "namespace": ns, "labels": {**labels, **(extra or {})}}

        self.prometheus_rule = None
        if args.endpoints:
            self.prometheus_rule = k8s.apiextensions.CustomResource(
                f"{name}-rules",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata=meta(physical),
                spec={
                    "groups": [{"name": ep.physical, "rules": alert_rules(spec, ep, scope)} for ep in args.endpoints]
                },
                opts=child,
            )
        self.service_monitors = []
        for ep in args.endpoints:
            if ep.kserve:
                select = {"serving.kserve.io/inferenceservice": ep.physical}
                endpoint: dict[str, Any] = {"targetPort": ep.port}
            else:
                select = {"app.kubernetes.io/name": ep.name, "app.kubernetes.io/instance": ep.physical}
                endpoint = {"port": "http"}
            self.service_monitors.append(
                k8s.apiextensions.CustomResource(
                    f"{name}-{ep.name}-monitor",
                    api_version="monitoring.coreos.com/v1",
                    kind="ServiceMonitor",
                    metadata=meta(ep.physical, {"mlplatform.io/endpoint": ep.name}),
                    spec={
                        "selector": {"matchLabels": select},
                        "namespaceSelector": {"matchNames": [ep.namespace]},
                        "endpoints": [{**endpoint, "path": "/metrics", "interval": SCRAPE_INTERVAL}],
                    },
                    opts=child,
                )
            )
        self.alertmanager_config = None
        if spec.notify:
            self.alertmanager_config = k8s.apiextensions.CustomResource(
                f"{name}-alertmanager",
                api_version="monitoring.coreos.com/v1alpha1",
                kind="AlertmanagerConfig",
                metadata=meta(physical),
                spec=_alertmanager_spec(spec, scope),
                opts=child,
            )
        board = dashboard(physical, args.endpoints)
        self.dashboard = k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata=meta(f"{physical}-dashboard", {"grafana_dashboard": "1"}),
            data={f"{physical}.json": json.dumps(board, indent=1, sort_keys=True)},
            opts=child,
        )
        self.register_outputs(
            {
                "prometheus_rule": physical if self.prometheus_rule else None,
                "service_monitors": [ep.physical for ep in args.endpoints],
                "alertmanager_config": physical if self.alertmanager_config else None,
                "dashboard": f"{physical}-dashboard",
            }
        )


def _alertmanager_spec(spec: MonitoringSpec, scope: common.Scope) -> dict[str, Any]:
    emails = [t for t in spec.notify if not t.startswith("https://")]
    hooks = [t for t in spec.notify if t.startswith("https://")]
    receiver: dict[str, Any] = {"name": "notify"}
    if emails:
        receiver["emailConfigs"] = [{"to": e, "sendResolved": True} for e in emails]
    if hooks:
        receiver["webhookConfigs"] = [{"url": h, "sendResolved": True} for h in hooks]
    return {
        "route": {
            "receiver": "notify",
            "groupBy": ["alertname", "endpoint"],
            "groupWait": "30s",
            "groupInterval": "5m",
            "repeatInterval": "4h",
            "matchers": [
                {"name": "platform", "value": scope.platform, "matchType": "="},
                {"name": "environment", "value": scope.env, "matchType": "="},
            ],
        },
        "receivers": [receiver],
    }
