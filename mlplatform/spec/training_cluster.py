"""TrainingCluster: an EKS cluster with node pools, or a namespace on an existing cluster."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from mlplatform.spec.base import Name, SpecModel
from mlplatform.spec.training_equipment import SystemNodes

TrainingClusterOptOut = Literal["private_endpoint", "secrets_encryption", "control_plane_logging"]


class NodePool(SpecModel):
    name: Name
    instance_type: str = Field(description="EC2 instance type, e.g. g5.2xlarge.")
    gpu: bool = Field(False, description="GPU pool: GPU AMI, GPU taint and labels. Omitted: CPU pool.")
    min_nodes: int = Field(0, ge=0, description="Fewest nodes. Omitted: 0 (scale to zero).")
    max_nodes: int = Field(1, ge=1, description="Most nodes. Omitted: 1.")
    spot: bool = Field(False, description="Spot capacity. Omitted: on-demand.")
    disk_gb: int = Field(100, ge=20, le=16384, description="Root volume size. Omitted: 100 GB.")
    labels: dict[str, str] = Field(default_factory=dict, description="Extra node labels. Omitted: none.")


class Quota(SpecModel):
    """Caps on what training jobs in the namespace may request at once."""

    gpus: int = Field(8, ge=0, description="GPUs requested at once. Omitted: 8.")
    cpu: int = Field(64, ge=1, description="CPU cores requested at once. Omitted: 64.")
    memory_gb: int = Field(256, ge=1, description="Memory requested at once. Omitted: 256 GB.")
    pods: int = Field(100, ge=1, description="Pods at once. Omitted: 100.")


def _network(value: str) -> str:
    """An IPv4 network as EC2 and EKS take it: octets 0-255 and no host bits (10.0.0.0/16, not 10.0.0.1/16)."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"'{value}' is not an IPv4 network: each of the four numbers is 0-255") from None
    if str(network) != value:
        raise ValueError(f"'{value}' has host bits set; did you mean '{network}'?")
    return value


Cidr = Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/([0-9]|[12][0-9]|3[0-2])$"), AfterValidator(_network)]
SecurityGroupId = Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]


class ApiAccess(SpecModel):
    """How `pulumi up` reaches the Kubernetes API of an EKS cluster the platform creates: the same
    run creates Kubernetes objects on it, so the deploy runner needs a path to the endpoint
    (docs/eks-api-access.md)."""

    runner_security_groups: list[SecurityGroupId] = Field(
        default_factory=list,
        description="Security groups of deploy runners inside the platform's existing VPC (network.vpc_id), "
        "allowed to the private endpoint on port 443. Omitted: none.",
    )
    runner_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Private networks the deploy runner connects from (a runner subnet of the existing VPC, a "
        "VPN or peered network routed to it), allowed to the private endpoint on port 443. Omitted: none.",
    )
    public_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Public addresses of the deploy runner: the endpoint is also public, reachable only from "
        "these (needs opt_out 'private_endpoint', reported in every plan and waived in production). Omitted: "
        "none.",
    )

    def declared(self) -> bool:
        return bool(self.runner_security_groups or self.runner_cidrs or self.public_cidrs)


class TrainingCluster(SpecModel):
    kind: Literal["TrainingCluster"] = "TrainingCluster"
    name: Name
    target: Literal["eks", "kubernetes"] = Field(
        "eks",
        description="eks: create (or adopt) an EKS cluster with managed node groups. kubernetes: "
        "a namespace on the platform's existing cluster. Omitted: eks.",
    )
    existing_cluster: str | None = Field(
        None, description="Name of an existing EKS cluster to add node pools to. Omitted: one is created."
    )
    kubernetes_version: str = Field("1.33", pattern=r"^1\.\d{2}$", description="EKS Kubernetes version. Omitted: 1.33.")
    node_pools: list[NodePool] = Field(
        default_factory=list,
        description="Node pools: a Karpenter NodePool each (nodes from zero up to max_nodes), plus a managed "
        "node group of min_nodes always-on nodes when min_nodes > 0. Omitted: none (an existing cluster's).",
    )
    system_nodes: SystemNodes = Field(
        default_factory=SystemNodes,
        description="Nodes for the cluster's controllers (eks, created cluster). Omitted: 2 x m6i.large.",
    )
    node_image: str = Field(
        "al2023@latest",
        pattern=r"^(al2023|bottlerocket)@(latest|v[0-9][0-9.]*)$",
        description="EKS-optimized AMI of Karpenter's nodes, as an EC2NodeClass alias; pin a release "
        "(al2023@v20250715) in production, since 'latest' replaces idle nodes when AWS publishes one "
        "(running training pods are never disrupted: they carry karpenter.sh/do-not-disrupt). "
        "Omitted: al2023@latest.",
    )
    addon_versions: dict[str, str] = Field(
        default_factory=dict,
        description="EKS add-on versions by add-on name, e.g. {'vpc-cni': 'v1.20.1-eksbuild.1'}. Omitted: "
        "EKS's default version of each add-on for kubernetes_version.",
    )
    quota: Quota = Field(default_factory=Quota, description="Namespace quota. Omitted: the Quota defaults.")
    api_access: ApiAccess = Field(
        default_factory=ApiAccess,
        description="How the deploy runner reaches the API of a created EKS cluster (required there: its "
        "endpoint is private). Omitted: no path, a validation error for a created cluster.",
    )
    opt_out: list[TrainingClusterOptOut] = Field(
        default_factory=list,
        description="Secure defaults to turn off, by name; each is reported in every plan. Omitted: all on.",
    )
