"""MonitoringStack on Kubernetes, for the Prometheus Operator: alert rules, scrape config,
Alertmanager routing and a Grafana dashboard for the watched endpoints.

What makes an alert reach a person, each point a documented rule of the stack:
- the PrometheusRule and ServiceMonitors carry the labels the cluster's Prometheus selects
  (kube-prometheus-stack: `release: <release>`; declared in Platform.kubernetes.prometheus);
- every alert keeps the `namespace` label: the operator adds `namespace="<ns>"` to the route of
  an AlertmanagerConfig (its OnNamespace matcher strategy), so every aggregation is `by (namespace)`;
- email receivers carry the declared SMTP relay: without a smarthost the operator rejects the
  AlertmanagerConfig (and, in some versions, the whole generated configuration).

The metrics the rules read are the endpoint's contract with its serving image
(`ModelEndpoint.metrics`: a request-duration histogram in seconds with a status-code label),
scraped by the ServiceMonitor (which adds `namespace` and `service`), and kube-state-metrics
for restarts and replica counts. Every alert carries `platform`, `environment`, `endpoint` and
`severity`; the AlertmanagerConfig routes this platform environment's alerts to `notify`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components.k8s import common, kserve
from mlplatform.spec.cluster import Prometheus
from mlplatform.spec.model_endpoint import ServingMetrics
from mlplatform.spec.monitoring import MonitoringStack as MonitoringSpec

RESTARTS_IN_15M = 2
SCRAPE_INTERVAL = "30s"
WINDOW = "5m"
RECEIVER = "notify"
SMTP_PASSWORD_KEY = "password"
# Knative labels the Service that selects a revision's pods directly (its public twin points at
# the same pods or the activator: selecting both would scrape every pod twice).
KNATIVE_SERVICE_TYPE = {"networking.internal.knative.dev/serviceType": "Private"}
KSERVE_ISVC_LABEL = "serving.kserve.io/inferenceservice"


@dataclass(frozen=True)
class WatchedEndpoint:
    """What monitoring needs to know about an endpoint the program built."""

    name: str  # blueprint name
    physical: str  # object name in the cluster
    namespace: str
    mode: str | None  # None: a Deployment; else the KServe mode ("Serverless", "RawDeployment")
    port: int
    metrics: ServingMetrics
    max_replicas: int
    autoscaled: bool  # an HPA (plain, RawDeployment) or Knative's autoscaler scales it

    @property
    def service_matcher(self) -> str:
        """The `service` label of the scraped targets (the Service the ServiceMonitor selects)."""
        if self.mode == "Serverless":
            return f'service=~"{self.physical}-predictor-[0-9]+-private"'
        if self.mode == "RawDeployment":
            return f'service="{self.physical}-predictor"'
        return f'service="{self.physical}"'

    @property
    def pod_pattern(self) -> str:
        if self.mode == "Serverless":
            return f"{self.physical}-predictor-[0-9]+-deployment-[a-z0-9]+-[a-z0-9]+"
        base = f"{self.physical}-predictor" if self.mode == "RawDeployment" else self.physical
        return f"{base}-[a-z0-9]+-[a-z0-9]+"

    @property
    def selector(self) -> str:
        return f'namespace="{self.namespace}",{self.service_matcher}'


@dataclass(frozen=True)
class MonitoringStackArgs:
    spec: MonitoringSpec
    scope: common.Scope
    prometheus: Prometheus  # the declared Prometheus Operator stack
    endpoints: list[WatchedEndpoint] = field(default_factory=list)
    smtp_password: pulumi.Input[str] | None = None  # for prometheus.smtp.username


def alert_rules(spec: MonitoringSpec, ep: WatchedEndpoint, scope: common.Scope) -> list[dict[str, Any]]:
    m, sel = ep.metrics, ep.selector
    count, bucket = f"{m.histogram}_count", f"{m.histogram}_bucket"
    labels = {"platform": scope.platform, "environment": scope.env, "endpoint": ep.name}

    def rule(alert: str, expr: str, for_: str, severity: str, summary: str) -> dict[str, Any]:
        return {
            "alert": alert,
            "expr": expr,
            "for": for_,
            "labels": {**labels, "severity": severity},
            "annotations": {"summary": summary, "description": f"{summary} ({scope.platform} {scope.env})."},
        }

    requests = f"sum by (namespace) (rate({count}{{{sel}}}[{WINDOW}]))"
    rules = [
        rule(
            "ModelEndpointLatencyP99High",
            f"histogram_quantile(0.99, sum by (namespace, le) (rate({bucket}{{{sel}}}[{WINDOW}]))) "
            f"> {spec.latency_p99_ms / 1000:g}",
            "10m",
            "critical",
            f"Endpoint {ep.name}: p99 latency above {spec.latency_p99_ms:g} ms",
        ),
        rule(
            "ModelEndpointErrorRateHigh",
            f'100 * sum by (namespace) (rate({count}{{{sel},{m.status_label}=~"5.."}}[{WINDOW}])) '
            f"/ {requests} > {spec.error_rate_percent:g}",
            "5m",
            "critical",
            f"Endpoint {ep.name}: more than {spec.error_rate_percent:g}% of requests fail with 5xx",
        ),
        rule(
            "ModelEndpointNoTraffic",
            # No series at all (nothing scraped yet) counts as no traffic, still in its namespace.
            f'({requests} or label_replace(vector(0), "namespace", "{ep.namespace}", "", "")) == 0',
            f"{spec.no_traffic_minutes}m",
            "warning",
            f"Endpoint {ep.name}: no requests for {spec.no_traffic_minutes} minutes",
        ),
        rule(
            "ModelEndpointPodRestarts",
            f'increase(kube_pod_container_status_restarts_total{{namespace="{ep.namespace}",'
            f'pod=~"{ep.pod_pattern}"}}[15m]) > {RESTARTS_IN_15M}',
            "0m",
            "warning",
            f"Endpoint {ep.name}: a container restarted more than {RESTARTS_IN_15M} times in 15 minutes",
        ),
    ]
    if ep.autoscaled:
        rules.append(
            rule(
                "ModelEndpointAtMaxReplicas",
                _at_max(ep),
                "15m",
                "warning",
                f"Endpoint {ep.name}: running at its maximum of {ep.max_replicas} replicas",
            )
        )
    return rules


def _at_max(ep: WatchedEndpoint) -> str:
    if ep.mode == "Serverless":
        # Knative scales each revision on its own, up to maxReplicas each: during a rollout old and
        # new revision together may exceed it without either being at its limit. Per revision:
        pattern = kserve.deployment_pattern(ep.physical, ep.mode)
        return (
            f'max by (namespace, deployment) (kube_deployment_spec_replicas{{namespace="{ep.namespace}",'
            f'deployment=~"{pattern}"}}) >= {ep.max_replicas}'
        )
    hpa_name = f"{ep.physical}-predictor" if ep.mode == "RawDeployment" else ep.physical
    hpa = f'namespace="{ep.namespace}",horizontalpodautoscaler="{hpa_name}"'
    return (
        f"kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} "
        f">= kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}"
    )


def dashboard(title: str, endpoints: list[WatchedEndpoint]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    for row, ep in enumerate(endpoints):
        m, sel = ep.metrics, ep.selector
        queries = [
            ("p99 latency (s)", f"histogram_quantile(0.99, sum by (le) (rate({m.histogram}_bucket{{{sel}}}[5m])))"),
            ("requests/s", f"sum(rate({m.histogram}_count{{{sel}}}[5m]))"),
            ("5xx/s", f'sum(rate({m.histogram}_count{{{sel},{m.status_label}=~"5.."}}[5m]))'),
        ]
        for col, (label, expr) in enumerate(queries):
            panels.append(
                {
                    "id": len(panels) + 1,
                    "type": "timeseries",
                    "title": f"{ep.name}: {label}",
                    "gridPos": {"h": 8, "w": 8, "x": col * 8, "y": row * 8},
                    "targets": [{"refId": "A", "expr": expr}],
                }
            )
    return {
        "title": title,
        "uid": title[:40],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }


def service_monitor_spec(ep: WatchedEndpoint) -> dict[str, Any]:
    """Scrape each pod of the endpoint once, on the port of its metrics contract."""
    separate = ep.metrics.port != ep.port
    endpoint: dict[str, Any]
    if ep.mode == "Serverless":
        # Knative allows the container one port, so metrics are on the serving port; the private
        # Service's endpoints are the pods, and targetPort picks that container port on them.
        select = {KSERVE_ISVC_LABEL: ep.physical, **KNATIVE_SERVICE_TYPE}
        endpoint = {"targetPort": ep.metrics.port}
    elif ep.mode == "RawDeployment":
        # KServe's Service names its ports after the container's.
        select = {KSERVE_ISVC_LABEL: ep.physical}
        endpoint = {"port": "metrics" if separate else "http"}
    else:
        select = {"app.kubernetes.io/name": ep.name, "app.kubernetes.io/instance": ep.physical}
        endpoint = {"port": "metrics" if separate else "http"}
    return {
        "selector": {"matchLabels": select},
        "namespaceSelector": {"matchNames": [ep.namespace]},
        "endpoints": [{**endpoint, "path": ep.metrics.path, "interval": SCRAPE_INTERVAL}],
    }


class MonitoringStack(pulumi.ComponentResource):
    """Outputs: `prometheus_rule`, `service_monitors`, `alertmanager_config`, `dashboard`."""

    def __init__(self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:MonitoringStack", name, None, opts)
        spec, scope = args.spec, args.scope
        physical = f"{scope.names.prefix}-{spec.name}"
        ns = scope.namespace
        labels = scope.labels(name=spec.name, instance=physical, component="monitoring")
        selected = dict(args.prometheus.selector_labels)  # what the cluster's Prometheus selects
        child = common.child_options(self, opts)

        def meta(object_name: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
            return {"name": object_name, "namespace": ns, "labels": {**labels, **(extra or {})}}

        self.prometheus_rule = None
        if args.endpoints:
            self.prometheus_rule = k8s.apiextensions.CustomResource(
                f"{name}-rules",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata=meta(physical, selected),
                spec={
                    "groups": [{"name": ep.physical, "rules": alert_rules(spec, ep, scope)} for ep in args.endpoints]
                },
                opts=child,
            )
        self.service_monitors = [
            k8s.apiextensions.CustomResource(
                f"{name}-{ep.name}-monitor",
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata=meta(ep.physical, {**selected, "mlplatform.io/endpoint": ep.name}),
                spec=service_monitor_spec(ep),
                opts=child,
            )
            for ep in args.endpoints
        ]
        self.smtp_secret = None
        self.alertmanager_config = None
        if spec.notify:
            smtp = args.prometheus.smtp
            secret_name = f"{physical}-smtp"
            if smtp is not None and smtp.username is not None and args.smtp_password is not None:
                self.smtp_secret = k8s.core.v1.Secret(
                    f"{name}-smtp",
                    metadata=meta(secret_name),
                    type="Opaque",
                    string_data={SMTP_PASSWORD_KEY: args.smtp_password},
                    opts=child,
                )
            self.alertmanager_config = k8s.apiextensions.CustomResource(
                f"{name}-alertmanager",
                api_version="monitoring.coreos.com/v1alpha1",
                kind="AlertmanagerConfig",
                metadata=meta(physical, selected),
                spec=alertmanager_spec(spec, scope, args.prometheus, secret_name),
                # The operator reads the SMTP password when it builds the configuration.
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=[self.smtp_secret] if self.smtp_secret else None)
                ),
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


def alertmanager_spec(spec: MonitoringSpec, scope: common.Scope, prometheus: Prometheus, secret: str) -> dict[str, Any]:
    emails = [t for t in spec.notify if not t.startswith("https://")]
    hooks = [t for t in spec.notify if t.startswith("https://")]
    receiver: dict[str, Any] = {"name": RECEIVER}
    smtp = prometheus.smtp
    if emails and smtp is not None:  # validation rejects email targets without declared SMTP
        relay: dict[str, Any] = {
            "smarthost": smtp.smarthost,
            "from": smtp.from_address,
            "requireTLS": smtp.require_tls,
            "sendResolved": True,
        }
        if smtp.username is not None:
            relay["authUsername"] = smtp.username
            relay["authPassword"] = {"name": secret, "key": SMTP_PASSWORD_KEY}
        receiver["emailConfigs"] = [{"to": e, **relay} for e in emails]
    if hooks:
        receiver["webhookConfigs"] = [{"url": h, "sendResolved": True} for h in hooks]
    return {
        "route": {
            "receiver": RECEIVER,
            "groupBy": ["namespace", "alertname", "endpoint"],
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
