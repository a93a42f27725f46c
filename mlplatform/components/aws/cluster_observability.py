"""Container Insights on an EKS cluster the platform creates: the amazon-cloudwatch-observability
EKS add-on, its IAM role (IRSA), and the log groups it writes to, created first with the
platform's key and retention (Container Insights would otherwise create them unencrypted and keep
them forever).

The add-on's CloudWatch agent publishes Container Insights with enhanced observability metrics
(pod_status_failed among them) that the MonitoringStack's training alarm reads ("Install the
CloudWatch agent with the Amazon CloudWatch Observability EKS add-on", CloudWatch User Guide).

The same agent scrapes Kueue (Container Insights Prometheus metrics, "Scraping additional
Prometheus sources and importing those metrics"): its configuration keeps enhanced Container
Insights and adds a `prometheus` section whose EMF processor turns `kueue_pending_workloads` per
ClusterQueue into a CloudWatch metric, which the MonitoringStack's queue alarm reads. The add-on's
operator mounts `agent.prometheus.config` at the path the agent reads
(amazon-cloudwatch-agent-operator, internal/manifests/collector/config_replace.go); its target
allocator spreads the targets over the DaemonSet's agents, so each is scraped once. Kueue serves
metrics over HTTPS behind controller-runtime's authorization filter: the agent scrapes with its
service-account token, which the add-on's ClusterRole lets `get` /metrics.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components import charts
from mlplatform.components.aws.cluster_addons import AddonArgs, irsa_trust

ADDON = "amazon-cloudwatch-observability"
# The add-on's agent runs as this service account; the IAM role is bound to it by IRSA.
AGENT_NAMESPACE = "amazon-cloudwatch"
AGENT_SERVICE_ACCOUNT = "cloudwatch-agent"
AGENT_POLICY = "CloudWatchAgentServerPolicy"
# The log groups Container Insights writes: /aws/containerinsights/<cluster>/<kind>.
LOG_KINDS = ("application", "dataplane", "host", "performance", "prometheus")
# Where the agent's Prometheus metrics land, and the Kueue metric the queue alarm reads.
PROMETHEUS_NAMESPACE = "ContainerInsights/Prometheus"
KUEUE_JOB = "kueue"
PENDING_METRIC = "kueue_pending_workloads"
QUEUE_DIMENSIONS = ("ClusterName", "cluster_queue")
TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def scrape_config() -> dict[str, Any]:
    """Prometheus scrape configuration: Kueue's metrics Service (chart labels, port `https`)."""
    labels = "__meta_kubernetes_service_label_app_kubernetes_io_"
    return {
        "global": {"scrape_interval": "1m", "scrape_timeout": "10s"},
        "scrape_configs": [
            {
                "job_name": KUEUE_JOB,
                "scheme": "https",
                "bearer_token_file": TOKEN_FILE,
                # controller-runtime serves a self-signed certificate unless cert-manager issues one.
                "tls_config": {"insecure_skip_verify": True},
                "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": [charts.KUEUE.namespace]}}],
                "relabel_configs": [
                    {
                        "source_labels": [
                            f"{labels}name",
                            f"{labels}component",
                            "__meta_kubernetes_endpoint_port_name",
                        ],
                        "regex": "kueue;metrics-service;https",
                        "action": "keep",
                    }
                ],
            }
        ],
    }


def agent_configuration(eks_cluster: str, region: str, log_group: str) -> dict[str, Any]:
    """The add-on's configurationValues: enhanced Container Insights, as the add-on's default
    configuration has it, plus the Prometheus pipeline for Kueue."""
    declaration = {
        "source_labels": ["job"],
        "label_matcher": f"^{KUEUE_JOB}$",
        "dimensions": [list(QUEUE_DIMENSIONS)],
        "metric_selectors": [f"^{PENDING_METRIC}$"],
    }
    config = {
        "agent": {"region": region},
        "logs": {
            "metrics_collected": {
                "kubernetes": {"enhanced_container_insights": True},
                "prometheus": {
                    "cluster_name": eks_cluster,
                    "log_group_name": log_group,
                    "emf_processor": {"metric_namespace": PROMETHEUS_NAMESPACE, "metric_declaration": [declaration]},
                },
            }
        },
    }
    return {
        "agent": {"config": config, "prometheus": {"config": scrape_config(), "targetAllocator": {"enabled": True}}}
    }


def container_insights(
    parent: pulumi.Resource,
    name: str,
    addons: AddonArgs,
    *,
    cluster: str,
    names: naming.Names,
    kms_key_arn: pulumi.Input[str] | None,
    retention_days: int,
    region: str,
    after: Sequence[pulumi.Resource],
) -> aws.eks.Addon:
    """The add-on after the nodes and cluster DNS (`after`); its version as the other managed
    add-ons get theirs: pinned in TrainingCluster.addon_versions, else EKS's default for the
    cluster's Kubernetes version (cluster_addons.py)."""
    tags, partition = addons.tags, addons.partition
    child = pulumi.ResourceOptions(parent=parent)
    groups = [
        aws.cloudwatch.LogGroup(
            f"{name}-insights-{kind}",
            name=names.container_insights_log_group(cluster, kind),
            retention_in_days=retention_days,
            kms_key_id=kms_key_arn,
            tags=tags,
            opts=child,
        )
        for kind in LOG_KINDS
    ]
    trust = irsa_trust(addons.oidc, AGENT_NAMESPACE, AGENT_SERVICE_ACCOUNT)
    role = aws.iam.Role(
        f"{name}-insights-role", name=names.role(cluster, "insights"), assume_role_policy=trust, tags=tags, opts=child
    )
    attachment = aws.iam.RolePolicyAttachment(
        f"{name}-insights-policy",
        role=role.name,
        policy_arn=f"arn:{partition}:iam::aws:policy/{AGENT_POLICY}",
        opts=child,
    )
    version: pulumi.Input[str] = (
        addons.pinned.get(ADDON)
        or aws.eks.get_addon_version_output(
            addon_name=ADDON,
            kubernetes_version=addons.kubernetes_version,
            most_recent=False,
            opts=pulumi.InvokeOutputOptions(parent=parent),
        ).version
    )
    return aws.eks.Addon(
        f"{name}-insights",
        cluster_name=addons.cluster.name,
        addon_name=ADDON,
        addon_version=version,
        service_account_role_arn=role.arn,
        configuration_values=json.dumps(
            agent_configuration(
                names.eks_cluster(cluster), region, names.container_insights_log_group(cluster, "prometheus")
            ),
            sort_keys=True,
        ),
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[attachment, *groups, *after]),
    )
