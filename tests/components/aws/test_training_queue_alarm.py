"""Training queues alert on EKS, on the AWS example's prod plan: the cluster's CloudWatch agent
imports Kueue's pending-workloads gauge (Container Insights Prometheus metrics), and a CloudWatch
alarm on it notifies the platform's topic; the scrape configuration passes promtool."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlplatform.components.aws import cluster_observability
from tests.components.conftest import Resources, run_stack
from tests.components.k8s import alerting

ADDON = "aws:eks/addon:Addon"


@pytest.fixture(scope="module")
def prod() -> Resources:
    return Resources(run_stack("prod"))


def _agent(prod: Resources) -> dict[str, Any]:
    (addon,) = [r for r in prod.of_type(ADDON) if r.inputs["addonName"] == "amazon-cloudwatch-observability"]
    values: dict[str, Any] = json.loads(addon.inputs["configurationValues"])["agent"]
    return values


def test_the_agent_keeps_container_insights_and_imports_the_queue_gauge(prod: Resources) -> None:
    # CloudWatch User Guide, "Scraping additional Prometheus sources and importing those metrics":
    # an emf_processor metric_declaration selects metrics by job label and name and sets their
    # dimensions; the alarm must ask for exactly that metric, namespace and dimension set.
    collected = _agent(prod)["config"]["logs"]["metrics_collected"]
    # Overriding the agent's configuration must not lose the failed-pods alarm's metrics.
    assert collected["kubernetes"] == {"enhanced_container_insights": True}
    prometheus = collected["prometheus"]
    assert prometheus["cluster_name"] == "fraud-prod-train"
    assert prometheus["log_group_name"] == "/aws/containerinsights/fraud-prod-train/prometheus"
    (declaration,) = prometheus["emf_processor"]["metric_declaration"]
    alarm = prod.named("monitoring-train-queue-pending").inputs
    assert alarm["namespace"] == prometheus["emf_processor"]["metric_namespace"] == "ContainerInsights/Prometheus"
    assert any(re.fullmatch(s, alarm["metricName"]) for s in declaration["metric_selectors"])
    assert alarm["metricName"] == "kueue_pending_workloads"
    assert declaration["dimensions"] == [sorted(alarm["dimensions"], key=["ClusterName", "cluster_queue"].index)]
    queue = prod.named("train-queues-cluster-queue").inputs["metadata"]["name"]
    assert alarm["dimensions"] == {"ClusterName": "fraud-prod-train", "cluster_queue": queue}
    job = _agent(prod)["prometheus"]["config"]["scrape_configs"][0]["job_name"]
    assert declaration["source_labels"] == ["job"] and re.fullmatch(declaration["label_matcher"], job)


def test_queue_alarm_fires_after_half_an_hour_and_notifies_the_topic(prod: Resources) -> None:
    alarm = prod.named("monitoring-train-queue-pending").inputs
    assert alarm["name"] == "fraud-prod-train-queue-pending"
    assert (alarm["statistic"], alarm["period"], alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (
        "Maximum",
        300,
        6,
        6,
    )
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["treatMissingData"] == "notBreaching"
    assert alarm["alarmActions"] == alarm["okActions"]
    assert alarm["alarmActions"][0].endswith(":fraud-prod-monitoring-alerts")


def test_the_prometheus_log_group_exists_first_with_the_platform_key(prod: Resources) -> None:
    # Container Insights creates its log groups unencrypted and without retention when they are missing.
    group = prod.named("train-insights-prometheus")
    assert group.inputs["name"] == "/aws/containerinsights/fraud-prod-train/prometheus"
    assert group.inputs["kmsKeyId"] and group.inputs["retentionInDays"] == 365
    (addon,) = [r for r in prod.of_type(ADDON) if r.inputs["addonName"] == "amazon-cloudwatch-observability"]
    assert group.urn in addon.dependencies


def test_scrape_configuration_is_valid_prometheus_and_keeps_only_kueues_metrics_service(
    prod: Resources, tmp_path: Path
) -> None:
    # promtool check config (syntax only: the token file exists in the agent's pod). Debian's
    # promtool is built without Kubernetes service discovery, so the job is checked with its
    # discovery set aside (asserted on its own below). The target is Kueue chart 0.19.2's metrics
    # Service: labels name=kueue, component=metrics-service, port https.
    scrape = _agent(prod)["prometheus"]
    assert scrape["targetAllocator"] == {"enabled": True}  # each target scraped by one agent
    checkable = json.loads(json.dumps(scrape["config"]))
    for job in checkable["scrape_configs"]:
        job.pop("kubernetes_sd_configs")
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(checkable), encoding="utf-8")
    checked = alerting.run(alerting.tool("promtool"), "check", "config", "--syntax-only", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (job,) = scrape["config"]["scrape_configs"]
    assert job["scheme"] == "https" and job["bearer_token_file"] == cluster_observability.TOKEN_FILE
    assert job["kubernetes_sd_configs"] == [{"role": "endpoints", "namespaces": {"names": ["kueue-system"]}}]
    (keep,) = job["relabel_configs"]
    assert keep["action"] == "keep"
    values = {
        "__meta_kubernetes_service_label_app_kubernetes_io_name": "kueue",
        "__meta_kubernetes_service_label_app_kubernetes_io_component": "metrics-service",
        "__meta_kubernetes_endpoint_port_name": "https",
    }
    joined = ";".join(values[label] for label in keep["source_labels"])
    assert re.fullmatch(keep["regex"], joined)
    # The webhook Service of the same chart (component webhook-service) is not scraped.
    webhook = {**values, "__meta_kubernetes_service_label_app_kubernetes_io_component": "webhook-service"}
    assert not re.fullmatch(keep["regex"], ";".join(webhook[label] for label in keep["source_labels"]))
