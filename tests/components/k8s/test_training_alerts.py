"""Training alerts on the Kubernetes example's prod plan, checked with the real tools: promtool
evaluates the rules on the series JobSet and Kueue export (names and labels as in their source at
the pinned versions), and amtool resolves every alert to the team's receiver through the
configuration the Prometheus Operator builds from the MonitoringStack's AlertmanagerConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlplatform.components import charts
from mlplatform.components.k8s import training_alerts
from mlplatform.plan.engine import Captured
from mlplatform.spec.training_equipment import TrainingEquipment
from tests.components.k8s import alerting, manifests
from tests.components.k8s.helpers import by_name, cluster, platform, run_k8s
from tests.components.k8s.test_alerting import amconfig_manifest, check_routing, series

SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"


def _where(captured: Captured) -> tuple[str, str, str]:
    """(platform namespace, training namespace, cluster queue) as the plan names them."""
    platform_ns = amconfig_manifest(captured)["metadata"]["namespace"]
    local_queue = manifests.render(by_name(captured, "train-queues-local-queue"))
    cluster_queue = manifests.render(by_name(captured, "train-queues-cluster-queue"))
    return platform_ns, local_queue["metadata"]["namespace"], cluster_queue["metadata"]["name"]


def _monitors(captured: Captured) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["metadata"]["name"]: manifests.render(r)
        for r in captured.resources
        if r.type == SERVICE_MONITOR and r.inputs["metadata"]["labels"]["app.kubernetes.io/component"] == "training"
    }


def test_training_rules_and_monitors_are_valid_and_selected_by_the_declared_prometheus(prod: Captured) -> None:
    # Prometheus Operator: a Prometheus loads the PrometheusRules and ServiceMonitors its ruleSelector
    # and serviceMonitorSelector match (kube-prometheus-stack: release: <release>); upstream CRDs.
    (rule,) = [
        r
        for r in prod.resources
        if r.type.endswith(":PrometheusRule")
        and r.inputs["metadata"]["labels"]["app.kubernetes.io/component"] == "training"
    ]
    monitors = _monitors(prod)
    assert sorted(monitors) == ["recs-prod-training-alerts-jobset", "recs-prod-training-alerts-kueue"]
    for manifest in [manifests.render(rule), *monitors.values()]:
        assert manifests.validate(manifest) == "crd"
        assert manifest["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_monitors_scrape_the_controllers_metrics_services_as_their_charts_label_them(prod: Captured) -> None:
    # Kueue chart 0.19.2 (templates/manager/auth_proxy_service.yaml, _helpers.tpl) and JobSet chart
    # 0.12.0 as Kubeflow Trainer 2.3.0's subchart (fullnameOverride jobset): port `https` 8443,
    # served by controller-runtime behind its authn/authz filter, as their own ServiceMonitors scrape it.
    monitors = _monitors(prod)
    kueue = monitors["recs-prod-training-alerts-kueue"]["spec"]
    jobset = monitors["recs-prod-training-alerts-jobset"]["spec"]
    assert kueue["namespaceSelector"] == {"matchNames": [charts.KUEUE.namespace]}
    assert kueue["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "kueue",
        "app.kubernetes.io/instance": "kueue",
        "app.kubernetes.io/component": "metrics-service",
    }
    assert jobset["namespaceSelector"] == {"matchNames": ["kubeflow-system"]}
    assert jobset["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "jobset",
        "app.kubernetes.io/instance": "kubeflow-trainer",
        "app.kubernetes.io/component": "controller",
    }
    for spec in (kueue, jobset):
        (endpoint,) = spec["endpoints"]
        assert (endpoint["port"], endpoint["scheme"], endpoint["path"]) == ("https", "https", "/metrics")
        assert endpoint["bearerTokenFile"] == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    # jobset_failed_total carries the job's `namespace`: without honorLabels Prometheus would
    # rename it exported_namespace and the rules would select nothing.
    assert jobset["endpoints"][0]["honorLabels"] is True
    assert "honorLabels" not in kueue["endpoints"][0]


def test_a_standalone_jobset_is_scraped_where_its_chart_installs_it() -> None:
    # JobSet docs (installation with Helm): release `jobset` in namespace `jobset-system`.
    (kueue, jobset) = training_alerts.scraped(TrainingEquipment(jobset=True))
    assert (jobset.namespace, jobset.labels["app.kubernetes.io/instance"]) == ("jobset-system", "jobset")
    assert kueue.namespace == "kueue-system"


def _cases(platform_ns: str, training_ns: str, queue: str, env: str) -> list[dict[str, Any]]:
    target = {"job": "jobset-metrics-service", "instance": "10.0.1.7:8443", "jobset_name": "resnet"}
    common = {
        "platform": "recs",
        "environment": env,
        "namespace": platform_ns,
        "training_cluster": "train",
        "training_namespace": training_ns,
        "severity": "warning",
    }
    failed = {**common, **target}
    pending_labels = {"cluster_queue": queue, "status": "active"}
    failed_says = {
        "summary": f"Training job resnet failed in {training_ns}",
        "description": f"TrainJob/JobSet resnet of TrainingCluster train failed (recs {env}); "
        f"`kubectl -n {training_ns} get trainjob resnet -o yaml` shows why.",
    }
    fires_failed = [{"exp_labels": failed, "exp_annotations": failed_says}]
    pending_says = {
        "summary": f"Workloads have waited in queue {queue} for 30 minutes",
        "description": f"ClusterQueue {queue} of TrainingCluster train has had 2 or more workloads pending for "
        f"30 minutes without a break (recs {env}): the quota is used up or a job asks for more than it grants.",
    }
    return [
        {
            "interval": "1m",
            "input_series": [
                # Born at 1 when the JobSet fails (20m), failed again after a restart (60m).
                series("jobset_failed_total", {**target, "namespace": training_ns}, "_x20 1x39 2x20"),
                # Another namespace's job is not this cluster's.
                series("jobset_failed_total", {**target, "namespace": "other", "jobset_name": "x"}, "_x20 1x60"),
                # Two Kueue replicas report the queue: one alert.
                series("kueue_pending_workloads", {**pending_labels, "replica_role": "leader"}, "0x10 2x60"),
                series("kueue_pending_workloads", {**pending_labels, "replica_role": "follower"}, "0x10 2x60"),
                series("kueue_pending_workloads", {"cluster_queue": "other", "status": "active"}, "3x70"),
            ],
            "alert_rule_test": [
                {"eval_time": "19m", "alertname": "TrainingJobFailed", "exp_alerts": []},
                {"eval_time": "22m", "alertname": "TrainingJobFailed", "exp_alerts": fires_failed},
                {"eval_time": "45m", "alertname": "TrainingJobFailed", "exp_alerts": []},
                {"eval_time": "62m", "alertname": "TrainingJobFailed", "exp_alerts": fires_failed},
                {"eval_time": "35m", "alertname": "TrainingWorkloadsPendingTooLong", "exp_alerts": []},
                {
                    "eval_time": "42m",
                    "alertname": "TrainingWorkloadsPendingTooLong",
                    "exp_alerts": [{"exp_labels": {**common, "cluster_queue": queue}, "exp_annotations": pending_says}],
                },
            ],
        },
        {
            "interval": "1m",
            # A queue that empties now and then is not stuck.
            "input_series": [series("kueue_pending_workloads", pending_labels, "1x20 0 1x20 0 1x20")],
            "alert_rule_test": [{"eval_time": "60m", "alertname": "TrainingWorkloadsPendingTooLong", "exp_alerts": []}],
        },
    ]


def test_failed_jobs_and_long_queues_fire_with_namespace_and_reach_the_teams_receiver(
    prod: Captured, tmp_path: Path
) -> None:
    # promtool test rules (Prometheus "Unit testing for rules") on JobSet's jobset_failed_total and
    # Kueue's kueue_pending_workloads; amtool config routes test on the operator's configuration
    # (prometheus-operator pkg/alertmanager/amcfg.go adds namespace="<its namespace>" to the route).
    groups = alerting.rule_groups(prod, component="training")
    rules_file = tmp_path / "training.rules.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    checked = alerting.run(alerting.tool("promtool"), "check", "rules", str(rules_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 2 rules found" in checked.stdout
    platform_ns, training_ns, queue = _where(prod)
    assert training_ns != platform_ns
    tests = _cases(platform_ns, training_ns, queue, "prod")
    test_file = tmp_path / "training.test.yaml"
    test_file.write_text(
        yaml.safe_dump({"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": tests}), encoding="utf-8"
    )
    result = alerting.run(alerting.tool("promtool"), "test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr
    fired = [
        (rt["alertname"], a["exp_labels"]) for t in tests for rt in t["alert_rule_test"] for a in rt["exp_alerts"]
    ]
    assert {a for a, _ in fired} == {"TrainingJobFailed", "TrainingWorkloadsPendingTooLong"}
    check_routing(tmp_path, amconfig_manifest(prod), fired)


def test_no_training_alerts_without_a_monitoring_stack_that_notifies() -> None:
    from mlplatform.spec.monitoring import MonitoringStack
    from mlplatform.spec.training_cluster import TrainingCluster

    train = TrainingCluster(name="train", target="kubernetes")
    quiet = MonitoringStack(name="monitoring", target="kubernetes", notify=["https://hooks.example.com/x"])
    off = quiet.model_copy(update={"training_job_alerts": False})
    captured, _ = run_k8s(platform(train, off, kubernetes=cluster()))
    assert not [r for r in captured.resources if r.type == "mlplatform:k8s:TrainingAlerts"]
    captured, _ = run_k8s(platform(train, quiet, kubernetes=cluster()))
    assert [r.name for r in captured.resources if r.type == "mlplatform:k8s:TrainingAlerts"] == ["monitoring-training"]
