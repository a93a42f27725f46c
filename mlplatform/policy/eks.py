"""EKS clusters."""

from __future__ import annotations

from mlplatform.plan.model import PlannedResource
from mlplatform.policy.rules import Context, as_list, dig, display_name, rule

CLUSTER = "aws:eks/cluster:Cluster"

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@rule("MLP-EKS-001", "error", [CLUSTER], "API server endpoint not public", checkov="CKV_AWS_39")
def private_endpoint(cluster: PlannedResource, ctx: Context) -> list[str]:
    # AWS makes the endpoint public unless told otherwise.
    if dig(cluster.inputs, "vpcConfig", "endpointPublicAccess") is False:
        return []
    return [
        f"cluster '{display_name(cluster)}' API endpoint is public: set vpc_config endpoint_public_access=False "
        "and endpoint_private_access=True (TrainingCluster opt_out 'private_endpoint' turns this off)"
    ]


@rule("MLP-EKS-002", "error", [CLUSTER], "Kubernetes secrets encrypted with a KMS key", checkov="CKV_AWS_58")
def secrets_encryption(cluster: PlannedResource, ctx: Context) -> list[str]:
    config = cluster.inputs.get("encryptionConfig")
    if "secrets" in as_list(dig(config, "resources")) and dig(config, "provider", "keyArn"):
        return []
    return [
        f"cluster '{display_name(cluster)}' does not encrypt Kubernetes secrets: set encryption_config with "
        "resources=['secrets'] and the platform key (TrainingCluster opt_out 'secrets_encryption' turns this off)"
    ]


@rule("MLP-EKS-003", "error", [CLUSTER], "Control plane logging for all log types", checkov="CKV_AWS_37")
def control_plane_logging(cluster: PlannedResource, ctx: Context) -> list[str]:
    enabled = set(as_list(cluster.inputs.get("enabledClusterLogTypes")))
    missing = [t for t in LOG_TYPES if t not in enabled]
    if not missing:
        return []
    return [
        f"cluster '{display_name(cluster)}' does not log {', '.join(missing)}: set enabled_cluster_log_types to "
        f"{', '.join(LOG_TYPES)} (TrainingCluster opt_out 'control_plane_logging' turns this off)"
    ]


@rule("MLP-EKS-004", "error", [CLUSTER], "A public API endpoint admits declared CIDRs only", checkov="CKV_AWS_38")
def public_endpoint_cidrs(cluster: PlannedResource, ctx: Context) -> list[str]:
    # EKS opens a public endpoint to 0.0.0.0/0 when publicAccessCidrs is not set.
    if dig(cluster.inputs, "vpcConfig", "endpointPublicAccess") is False:
        return []
    cidrs = [str(c) for c in as_list(dig(cluster.inputs, "vpcConfig", "publicAccessCidrs"))]
    if cidrs and not any(c.endswith("/0") for c in cidrs):
        return []
    return [
        f"cluster '{display_name(cluster)}' API endpoint is public to every address: set vpc_config "
        "public_access_cidrs to the deploy runner's addresses (TrainingCluster api_access.public_cidrs)"
    ]
