"""Container Insights on an EKS cluster the platform creates: the amazon-cloudwatch-observability
EKS add-on, its IAM role (IRSA), and the log groups it writes to, created first with the
platform's key and retention (Container Insights would otherwise create them unencrypted and keep
them forever).

The add-on's CloudWatch agent publishes Container Insights with enhanced observability metrics
(pod_status_failed among them) that the MonitoringStack's training alarm reads ("Install the
CloudWatch agent with the Amazon CloudWatch Observability EKS add-on", CloudWatch User Guide).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws.cluster_addons import AddonArgs, irsa_trust

ADDON = "amazon-cloudwatch-observability"
# The add-on's agent runs as this service account; the IAM role is bound to it by IRSA.
AGENT_NAMESPACE = "amazon-cloudwatch"
AGENT_SERVICE_ACCOUNT = "cloudwatch-agent"
AGENT_POLICY = "CloudWatchAgentServerPolicy"
# The log groups Container Insights writes: /aws/containerinsights/<cluster>/<kind>.
LOG_KINDS = ("application", "dataplane", "host", "performance")


def container_insights(
    parent: pulumi.Resource,
    name: str,
    addons: AddonArgs,
    *,
    cluster: str,
    names: naming.Names,
    kms_key_arn: pulumi.Input[str] | None,
    retention_days: int,
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
    version: pulumi.Input[str] = addons.pinned.get(ADDON) or aws.eks.get_addon_version_output(
        addon_name=ADDON,
        kubernetes_version=addons.kubernetes_version,
        most_recent=False,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    ).version
    return aws.eks.Addon(
        f"{name}-insights",
        cluster_name=addons.cluster.name,
        addon_name=ADDON,
        addon_version=version,
        service_account_role_arn=role.arn,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[attachment, *groups, *after]),
    )
