"""What a cluster runs for training, declared, and the nodes that run the controllers.

On an EKS cluster the platform creates, it installs everything training needs: the NVIDIA device
plugin (so `nvidia.com/gpu` becomes allocatable), Karpenter (nodes from zero), Kueue (queues and
quotas) and Kubeflow Trainer with JobSet (distributed jobs). On an existing cluster
(`target="kubernetes"`), `Platform.kubernetes.training` declares which of these already run; the
platform installs only what is missing and needed (the device plugin only when the quota grants
GPUs). Karpenter needs its IAM role, node role and interruption queue in the cluster's account,
so on an existing cluster it is declared, never installed: node pools there become NodePools of
the declared Karpenter.
"""

from __future__ import annotations

from pydantic import Field

from mlplatform.spec.base import SpecModel

# EKS managed add-ons on a cluster the platform creates. Before compute: what a node needs to
# become Ready (pod networking, kube-proxy) and the Pod Identity agent, as terraform-aws-eks orders
# them (`before_compute`); after the node groups: what runs as Deployments.
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
ADDONS_AFTER_NODES = ("coredns", "aws-ebs-csi-driver", "metrics-server")
EKS_ADDONS = ADDONS_BEFORE_NODES + ADDONS_AFTER_NODES


class DeclaredKarpenter(SpecModel):
    """Karpenter (v1 API) running on an existing EKS cluster."""

    node_role: str = Field(
        pattern=r"^[A-Za-z0-9_+=,.@-]{1,64}$",
        description="IAM role of the nodes Karpenter launches (EC2NodeClass spec.role), with an EKS access entry.",
    )
    discovery_tag: str = Field(
        pattern=r"^[A-Za-z0-9_.:/=+@-]{1,256}$",
        description="Value of the karpenter.sh/discovery tag on the cluster's node subnets and security "
        "groups (Karpenter's getting-started convention: the cluster name).",
    )


class TrainingEquipment(SpecModel):
    """Training controllers the cluster already runs. Omitted: none; the platform installs
    the device plugin, Kueue and Kubeflow Trainer (with JobSet) from pinned charts."""

    nvidia_device_plugin: bool = Field(
        False,
        description="The NVIDIA device plugin (or GPU Operator) runs, so GPU nodes advertise nvidia.com/gpu. "
        "Omitted: installed when a training quota grants GPUs.",
    )
    kueue: bool = Field(
        False,
        description="Kueue 0.15 or later (kueue.x-k8s.io/v1beta2) runs with the trainjob integration on. "
        "Omitted: installed.",
    )
    kubeflow_trainer: bool = Field(
        False, description="Kubeflow Trainer v2 (trainer.kubeflow.org/v1alpha1) runs. Omitted: installed."
    )
    jobset: bool = Field(
        False,
        description="JobSet runs on its own (Kubeflow Trainer needs it). Omitted: installed with Kubeflow "
        "Trainer's chart.",
    )
    karpenter: DeclaredKarpenter | None = Field(
        None, description="Karpenter runs (node pools need it). Omitted: it does not; node_pools are an error."
    )


class SystemNodes(SpecModel):
    """The managed node group that runs the cluster's controllers (CoreDNS, Karpenter, Kueue,
    Kubeflow Trainer, metrics-server), tainted CriticalAddonsOnly so that jobs never land there:
    Karpenter cannot run on nodes it manages itself."""

    instance_type: str = Field("m6i.large", description="EC2 instance type. Omitted: m6i.large.")
    count: int = Field(2, ge=1, le=10, description="Nodes, spread over zones. Omitted: 2.")
