"""Alerts that are loaded and routed, checked with the real tools: promtool evaluates every alert
rule on sample series (each fires, carrying the labels routes match on, `namespace` included;
healthy series keep it quiet), and amtool checks the configuration the Prometheus Operator
would build from the AlertmanagerConfig and resolves every alert to the team's receiver."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlplatform.blueprint import load
from mlplatform.plan.engine import Captured
from mlplatform.spec.cluster import KServe, Prometheus, Smtp
from mlplatform.spec.model_endpoint import ModelEndpoint, ServingMetrics
from mlplatform.spec.monitoring import MonitoringStack
from tests.components.k8s import alerting, manifests
from tests.components.k8s.helpers import by_name, cluster, platform, run_k8s
from tests.conftest import ROOT

EXAMPLES = {"recs-prod": ("blueprints/recommender_k8s.py", "prod"), "search-prod": ("blueprints/search_k8s.py", "prod")}
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf")


@dataclass(frozen=True)
class Served:
    """An endpoint as the cluster names what serves it (Kubernetes, KServe and Knative naming)."""

    name: str
    physical: str
    namespace: str
    mode: str | None
    metrics: ServingMetrics
    max_replicas: int
    autoscaled: bool

    @property
    def service(self) -> str:  # the Service the ServiceMonitor selects: the scraped `service` label
        if self.mode == "Serverless":
            return f"{self.physical}-predictor-00001-private"  # Knative: <revision>-private
        return f"{self.physical}-predictor" if self.mode == "RawDeployment" else self.physical

    @property
    def pod(self) -> str:  # <deployment>-<pod-template-hash>-<suffix>
        if self.mode == "Serverless":
            return f"{self.physical}-predictor-00001-deployment-5d8f7b9c6-x2x4z"
        return f"{self.service if self.mode else self.physical}-5d8f7b9c6-x2x4z"


def served_endpoints(captured: Captured, blueprint: str, env: str) -> list[Served]:
    platform_spec = load(ROOT / blueprint).resolve(env)
    out = []
    for spec in platform_spec.of_kind(ModelEndpoint):
        isvc = [r for r in captured.resources if r.name == f"{spec.name}-isvc"]
        mode = isvc[0].inputs["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] if isvc else None
        meta = by_name(captured, f"{spec.name}-sa").inputs["metadata"]
        out.append(
            Served(
                spec.name,
                meta["name"],
                meta["namespace"],
                mode,
                spec.metrics,
                spec.max_instances,
                spec.max_instances > spec.min_instances,
            )
        )
    return out


def series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{metric}{{{inner}}}", "values": values}


def firing_cases(ep: Served, rules: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One promtool test per alert: series on which it fires, and the alert it must produce."""
    h, status = ep.metrics.histogram, ep.metrics.status_label
    base = {"namespace": ep.namespace, "service": ep.service, "pod": ep.pod}
    assert float(rules["ModelEndpointLatencyP99High"]["expr"].rsplit("> ", 1)[1]) < 2.5
    slow = [  # every request between 2.5 and 5 s, above every threshold tested here
        series(f"{h}_bucket", {**base, status: "200", "le": le}, "0x60" if float(le) < 5 else "0+60x60")
        for le in BUCKETS
    ]
    failing = [
        series(f"{h}_count", {**base, status: "200"}, "0+50x60"),
        series(f"{h}_count", {**base, status: "503"}, "0+10x60"),
    ]
    restarts = [series("kube_pod_container_status_restarts_total", {**base, "container": "server"}, "0+1x60")]
    cases = [
        ("ModelEndpointLatencyP99High", slow, {}),
        ("ModelEndpointErrorRateHigh", failing, {}),
        ("ModelEndpointNoTraffic", [], {}),  # nothing scraped at all
        ("ModelEndpointPodRestarts", restarts, {"pod": ep.pod, "container": "server", "service": ep.service}),
    ]
    if ep.autoscaled:
        if ep.mode == "Serverless":
            deployment = f"{ep.physical}-predictor-00001-deployment"
            at_max = [
                series(
                    "kube_deployment_spec_replicas",
                    {"namespace": ep.namespace, "deployment": deployment},
                    f"{ep.max_replicas}x60",
                )
            ]
            extra = {"deployment": deployment}
        else:
            hpa = f"{ep.physical}-predictor" if ep.mode else ep.physical
            labels = {"namespace": ep.namespace, "horizontalpodautoscaler": hpa}
            at_max = [
                series("kube_horizontalpodautoscaler_status_current_replicas", labels, f"{ep.max_replicas}x60"),
                series("kube_horizontalpodautoscaler_spec_max_replicas", labels, f"{ep.max_replicas}x60"),
            ]
            extra = {"horizontalpodautoscaler": hpa}
        cases.append(("ModelEndpointAtMaxReplicas", at_max, extra))
    out = []
    for alert, input_series, extra_labels in cases:
        rule = rules[alert]
        out.append(
            {
                "interval": "1m",
                "input_series": input_series,
                "alert_rule_test": [
                    {
                        "eval_time": "45m",
                        "alertname": alert,
                        "exp_alerts": [
                            {
                                "exp_labels": {"namespace": ep.namespace, **extra_labels, **rule["labels"]},
                                "exp_annotations": rule["annotations"],
                            }
                        ],
                    }
                ],
            }
        )
    return out


def quiet_cases(ep: Served) -> list[dict[str, Any]]:
    """Healthy traffic: fast, successful, steady; no alert of the endpoint fires. For Knative,
    two revisions that together exceed maxReplicas while neither is at it stay quiet too."""
    h, status = ep.metrics.histogram, ep.metrics.status_label
    base = {"namespace": ep.namespace, "service": ep.service, "pod": ep.pod}
    healthy = [series(f"{h}_bucket", {**base, status: "200", "le": le}, "0+60x60") for le in BUCKETS] + [
        series(f"{h}_count", {**base, status: "200"}, "0+60x60")
    ]
    if ep.mode == "Serverless" and ep.autoscaled:
        half = max(1, ep.max_replicas - 1)
        for revision in ("00001", "00002"):
            labels = {"namespace": ep.namespace, "deployment": f"{ep.physical}-predictor-{revision}-deployment"}
            healthy.append(series("kube_deployment_spec_replicas", labels, f"{half}x60"))
    tests = [
        {"eval_time": "45m", "alertname": alert, "exp_alerts": []}
        for alert in ("ModelEndpointLatencyP99High", "ModelEndpointErrorRateHigh", "ModelEndpointNoTraffic")
    ]
    if ep.mode == "Serverless" and ep.autoscaled:
        tests.append({"eval_time": "45m", "alertname": "ModelEndpointAtMaxReplicas", "exp_alerts": []})
    return [{"interval": "1m", "input_series": healthy, "alert_rule_test": tests}]


def promtool_test(tmp_path: Path, captured: Captured, endpoints: list[Served]) -> list[tuple[str, dict[str, str]]]:
    """Check the rendered rules, then test each endpoint's group (one group per endpoint, so no
    other endpoint's alerts take part) on its series. Returns (alertname, labels) of every alert
    the tests proved to fire."""
    rules_file = alerting.write_rules(tmp_path, captured)
    checked = alerting.run(alerting.tool("promtool"), "check", "rules", str(rules_file))
    count = sum(len(g["rules"]) for g in alerting.rule_groups(captured))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {count} rules found" in checked.stdout
    groups = {g["name"]: g for g in alerting.rule_groups(captured)}
    fired: list[tuple[str, dict[str, str]]] = []
    files = []
    for ep in endpoints:
        group = groups[ep.physical]
        group_file = tmp_path / f"{ep.physical}.rules.yaml"
        group_file.write_text(yaml.safe_dump({"groups": [group]}, sort_keys=False), encoding="utf-8")
        tests = firing_cases(ep, {r["alert"]: r for r in group["rules"]}) + quiet_cases(ep)
        test_file = tmp_path / f"{ep.physical}.test.yaml"
        test_file.write_text(
            yaml.safe_dump({"rule_files": [group_file.name], "evaluation_interval": "1m", "tests": tests}),
            encoding="utf-8",
        )
        files.append(str(test_file))
        fired += [
            (rt["alertname"], a["exp_labels"]) for t in tests for rt in t["alert_rule_test"] for a in rt["exp_alerts"]
        ]
    result = alerting.run(alerting.tool("promtool"), "test", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files), result.stdout
    return fired


def amconfig_manifest(captured: Captured) -> dict[str, Any]:
    (resource,) = [r for r in captured.resources if r.type.endswith("v1alpha1:AlertmanagerConfig")]
    return manifests.render(resource)


def check_routing(tmp_path: Path, manifest: dict[str, Any], fired: list[tuple[str, dict[str, str]]], **kw: Any) -> None:
    config_file = alerting.write_alertmanager_config(tmp_path, alerting.operator_config(manifest, **kw))
    checked = alerting.run(alerting.tool("amtool"), "check-config", str(config_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    ns, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    receiver = f"{ns}/{name}/notify"
    assert fired
    for alertname, labels in fired:
        assert alerting.routes_to(config_file, {"alertname": alertname, **labels}) == [receiver], alertname
        # The operator's route matches on namespace: an alert that lost it reaches nobody.
        lost = {k: v for k, v in labels.items() if k != "namespace"}
        assert alerting.routes_to(config_file, {"alertname": alertname, **lost}) == ["null"], alertname


@pytest.mark.parametrize("stack", sorted(EXAMPLES))
def test_every_alert_of_the_example_fires_with_namespace_and_reaches_the_teams_receiver(
    programs: dict[str, Captured], stack: str, tmp_path: Path
) -> None:
    # promtool test rules (Prometheus "Unit testing for rules"); amtool config routes test on the
    # configuration prometheus-operator's ConfigBuilder generates (pkg/alertmanager/amcfg.go).
    blueprint, env = EXAMPLES[stack]
    captured = programs[stack]
    endpoints = served_endpoints(captured, blueprint, env)
    fired = promtool_test(tmp_path, captured, endpoints)
    assert sorted({(a, labels["endpoint"]) for a, labels in fired}) == sorted(
        (alert, ep.name)
        for ep in endpoints
        for alert in (
            "ModelEndpointLatencyP99High",
            "ModelEndpointErrorRateHigh",
            "ModelEndpointNoTraffic",
            "ModelEndpointPodRestarts",
            *(["ModelEndpointAtMaxReplicas"] if ep.autoscaled else []),
        )
    )
    assert all(labels["namespace"] == endpoints[0].namespace for _, labels in fired)
    check_routing(tmp_path, amconfig_manifest(captured), fired)
    # Loaded at all: the rules and monitors carry the labels the declared Prometheus selects on
    # (kube-prometheus-stack: ruleSelector and serviceMonitorSelector match release: <release>).
    selected = load(ROOT / blueprint).resolve(env).kubernetes.prometheus.selector_labels
    loaded = [r for r in captured.resources if r.type.endswith((":PrometheusRule", ":ServiceMonitor"))]
    component = [r.inputs["metadata"]["labels"]["app.kubernetes.io/component"] for r in loaded]
    # The MonitoringStack's rule and a monitor per endpoint; the training alerts' rule and monitors.
    assert sorted(component) == sorted(["monitoring"] * (1 + len(endpoints)) + ["training"] * 3)
    for r in loaded:
        assert selected.items() <= r.inputs["metadata"]["labels"].items(), r.name


ALL_MODES = [
    ModelEndpoint(name="plain", model="ranker-model", target="kubernetes", min_instances=2, max_instances=4),
    ModelEndpoint(name="raw", model="ranker-model", target="kubernetes", kserve=True, min_instances=2, max_instances=5),
]


def test_alerts_of_every_serving_mode_fire_and_route(tmp_path: Path) -> None:
    # Plain Deployment and KServe RawDeployment here; Serverless in the example (recs ranker) and below.
    smtp = Smtp(smarthost="smtp.example.com:587", from_address="am@example.com", username="am")
    monitor = MonitoringStack(
        name="watch", target="kubernetes", endpoints=["plain", "raw"], notify=["oncall@example.com"]
    )
    p = platform(
        *ALL_MODES, monitor, kubernetes=cluster(kserve=KServe(mode="RawDeployment"), prometheus=Prometheus(smtp=smtp))
    )
    captured, _ = run_k8s(p, config={"mlplatform:kubeContext": "shop-dev", "mlplatform:smtpPassword": "s3cret"})
    endpoints = [
        Served("plain", "shop-dev-plain", "shop-dev", None, ServingMetrics(), 4, True),
        Served("raw", "shop-dev-raw", "shop-dev", "RawDeployment", ServingMetrics(), 5, True),
    ]
    fired = promtool_test(tmp_path, captured, endpoints)
    manifest = amconfig_manifest(captured)
    (email,) = manifest["spec"]["receivers"][0]["emailConfigs"]
    assert email == {
        "to": "oncall@example.com",
        "smarthost": "smtp.example.com:587",
        "from": "am@example.com",
        "requireTLS": True,
        "sendResolved": True,
        "authUsername": "am",
        "authPassword": {"name": "shop-dev-watch-smtp", "key": "password"},
    }
    secret = by_name(captured, "watch-smtp")
    assert secret.inputs["metadata"]["name"] == "shop-dev-watch-smtp" and secret.inputs["stringData"] == "[secret]"
    assert secret.urn in by_name(captured, "watch-alertmanager").dependencies
    check_routing(tmp_path, manifest, fired, secrets={("shop-dev-watch-smtp", "password"): "s3cret"})


def test_serverless_alerts_count_replicas_per_revision(tmp_path: Path) -> None:
    # Knative autoscales each revision separately up to maxReplicas: two revisions at 4 of 5 each
    # are not "at max" (the quiet case), one revision at 5 is.
    features = ["kubernetes.podspec-priorityclassname"]
    ep = ModelEndpoint(
        name="live", model="ranker-model", target="kubernetes", kserve=True, min_instances=1, max_instances=5,
        metrics=ServingMetrics(port=8080),
    )  # fmt: skip
    monitor = MonitoringStack(
        name="watch", target="kubernetes", endpoints=["live"], notify=["https://hooks.example.com/x"]
    )
    captured, _ = run_k8s(platform(ep, monitor, kubernetes=cluster(kserve=KServe(knative_features=features))))
    served = Served("live", "shop-dev-live", "shop-dev", "Serverless", ServingMetrics(port=8080), 5, True)
    fired = promtool_test(tmp_path, captured, [served])
    assert ("ModelEndpointAtMaxReplicas", {
        "namespace": "shop-dev", "deployment": "shop-dev-live-predictor-00001-deployment",
        "platform": "shop", "environment": "dev", "endpoint": "live", "severity": "warning",
    }) in fired  # fmt: skip
    check_routing(tmp_path, amconfig_manifest(captured), fired)


def test_the_operator_refuses_email_without_a_smarthost() -> None:
    # amcfg.go convertEmailConfig: "SMTP smarthost is a mandatory field, it is neither specified at
    # global config nor at receiver level"; the email receivers the platform renders always have one.
    bare = {
        "metadata": {"namespace": "ns", "name": "cfg"},
        "spec": {
            "route": {"receiver": "notify"},
            "receivers": [{"name": "notify", "emailConfigs": [{"to": "a@b.co"}]}],
        },
    }
    with pytest.raises(alerting.OperatorRefuses, match="SMTP smarthost is a mandatory field"):
        alerting.operator_config(bare)


def test_rules_and_monitors_carry_the_labels_the_declared_prometheus_selects() -> None:
    # kube-prometheus-stack: ruleSelector and serviceMonitorSelector match release: <release> unless
    # ...SelectorNilUsesHelmValues is false (charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml).
    prom = Prometheus(namespace="observability", selector_labels={"release": "prom"})
    monitor = MonitoringStack(
        name="watch", target="kubernetes", endpoints=["plain"], notify=["https://h.example.com/x"]
    )
    captured, _ = run_k8s(platform(ALL_MODES[0], monitor, kubernetes=cluster(prometheus=prom)))
    for name in ("watch-rules", "watch-plain-monitor", "watch-alertmanager"):
        assert by_name(captured, name).inputs["metadata"]["labels"]["release"] == "prom", name


@pytest.mark.parametrize(
    ("mode", "selector", "endpoint"),
    [
        (None, {"app.kubernetes.io/name": "ep", "app.kubernetes.io/instance": "shop-dev-ep"}, {"port": "metrics"}),
        ("RawDeployment", {"serving.kserve.io/inferenceservice": "shop-dev-ep"}, {"port": "metrics"}),
        # Knative's public revision Service and its private twin front the same pods: select the
        # private one only, or every pod is scraped twice.
        (
            "Serverless",
            {
                "serving.kserve.io/inferenceservice": "shop-dev-ep",
                "networking.internal.knative.dev/serviceType": "Private",
            },
            {"targetPort": 8080},
        ),
    ],
)
def test_each_pod_is_scraped_once_on_its_metrics_port(
    mode: str | None, selector: dict[str, str], endpoint: dict[str, Any]
) -> None:
    metrics = ServingMetrics(port=8080) if mode == "Serverless" else ServingMetrics()
    ep = ModelEndpoint(name="ep", model="ranker-model", target="kubernetes", kserve=mode is not None, metrics=metrics)
    monitor = MonitoringStack(name="watch", target="kubernetes", endpoints=["ep"])
    kserve = KServe(mode=mode or "Serverless", knative_features=["kubernetes.podspec-priorityclassname"])
    captured, _ = run_k8s(platform(ep, monitor, kubernetes=cluster(kserve=kserve)))
    spec = by_name(captured, "watch-ep-monitor").inputs["spec"]
    assert spec["selector"]["matchLabels"] == selector
    assert spec["endpoints"] == [{**endpoint, "path": "/metrics", "interval": "30s"}]
    assert spec["namespaceSelector"] == {"matchNames": ["shop-dev"]}


def test_dashboard_reads_the_metrics_contract() -> None:
    metrics = ServingMetrics(histogram="http_server_duration_seconds", status_label="code")
    ep = ModelEndpoint(name="ep", model="ranker-model", target="kubernetes", metrics=metrics)
    monitor = MonitoringStack(name="watch", target="kubernetes", endpoints=["ep"])
    captured, _ = run_k8s(platform(ep, monitor))
    board = by_name(captured, "watch-dashboard").inputs
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    panels = json.loads(board["data"]["shop-dev-watch.json"])["panels"]
    sel = 'namespace="shop-dev",service="shop-dev-ep"'
    assert [p["targets"][0]["expr"] for p in panels] == [
        f"histogram_quantile(0.99, sum by (le) (rate(http_server_duration_seconds_bucket{{{sel}}}[5m])))",
        f"sum(rate(http_server_duration_seconds_count{{{sel}}}[5m]))",
        f'sum(rate(http_server_duration_seconds_count{{{sel},code=~"5.."}}[5m]))',
    ]
    rules = by_name(captured, "watch-rules").inputs["spec"]["groups"][0]["rules"]
    assert 'code=~"5.."' in rules[1]["expr"]


def test_no_notify_targets_means_no_alertmanager_config() -> None:
    quiet = MonitoringStack(name="watch", target="kubernetes", endpoints=["plain"])
    captured, _ = run_k8s(platform(ALL_MODES[0], quiet))
    assert [r for r in captured.resources if r.type.endswith("AlertmanagerConfig")] == []
