"""Karpenter NodePool and EC2NodeClass per blueprint node pool (Karpenter v1 API).

A pool becomes a NodePool of its one instance type and capacity type, labelled like the pool's
nodes everywhere (`training_queues.pool_labels`, which the Kueue flavors select), GPU pools
tainted `nvidia.com/gpu=true:NoSchedule`. Karpenter launches nodes from zero when pods are
pending and removes them once empty; `limits.nodes` caps the pool at max_nodes (less the
min_nodes always-on nodes a managed node group provides, which Karpenter does not count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components import charts
from mlplatform.components.k8s.training_queues import GPU_TAINT, pool_labels
from mlplatform.spec.training_cluster import NodePool

# Empty nodes go after this long; a node running a training pod is never consolidated away
# (WhenEmpty), and the runtimes' pods carry karpenter.sh/do-not-disrupt against drift.
CONSOLIDATE_AFTER = "5m"


@dataclass
class NodeClassArgs:
    """How nodes are launched: the node role, and the subnets and security groups, each by id
    or by tag (Karpenter's selector terms)."""

    role: pulumi.Input[str]
    subnets: list[dict[str, Any]]
    security_groups: list[dict[str, Any]]
    ami_alias: str = "al2023@latest"
    tags: dict[str, str] = field(default_factory=dict)


def by_ids(ids: pulumi.Input[list[str]]) -> pulumi.Output[list[dict[str, Any]]]:
    return pulumi.Output.from_input(ids).apply(lambda v: [{"id": i} for i in v])


def node_class_spec(pool: NodePool, args: NodeClassArgs) -> dict[str, Any]:
    return {
        "role": args.role,
        "amiSelectorTerms": [{"alias": args.ami_alias}],
        "subnetSelectorTerms": args.subnets,
        "securityGroupSelectorTerms": args.security_groups,
        # IMDSv2 only, one hop: pods cannot read the node role's credentials.
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "ebs": {
                    "volumeSize": f"{pool.disk_gb}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "deleteOnTermination": True,
                },
            }
        ],
        "tags": dict(args.tags),
    }


def node_pool_spec(pool: NodePool, node_class: str) -> dict[str, Any] | None:
    """None when min_nodes == max_nodes: the managed node group is the whole pool."""
    burst = pool.max_nodes - pool.min_nodes
    if burst <= 0:
        return None
    spec: dict[str, Any] = {
        "metadata": {"labels": pool_labels(pool)},
        "spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class},
            "requirements": [
                {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [pool.instance_type]},
                {
                    "key": "karpenter.sh/capacity-type",
                    "operator": "In",
                    "values": ["spot" if pool.spot else "on-demand"],
                },
                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
            ],
        },
    }
    if pool.gpu:
        spec["spec"]["taints"] = [dict(GPU_TAINT)]
    return {
        "template": spec,
        "limits": {"nodes": str(burst)},
        "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": CONSOLIDATE_AFTER},
    }


def create(
    name: str,
    *,
    pools: list[NodePool],
    prefix: str,
    node_class: NodeClassArgs,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> dict[str, k8s.apiextensions.CustomResource]:
    """The NodePools (by pool name) and their EC2NodeClasses. Both are cluster-scoped: named
    `<prefix>-<pool>` so that several platforms can share a cluster."""
    out: dict[str, k8s.apiextensions.CustomResource] = {}
    for pool in pools:
        physical = f"{prefix}-{pool.name}"
        spec = node_pool_spec(pool, physical)
        if spec is None:
            continue
        nodeclass = k8s.apiextensions.CustomResource(
            f"{name}-{pool.name}-nodeclass",
            api_version=charts.KARPENTER_AWS_API,
            kind="EC2NodeClass",
            metadata={"name": physical, "labels": dict(labels)},
            spec=node_class_spec(pool, node_class),
            opts=opts,
        )
        out[pool.name] = k8s.apiextensions.CustomResource(
            f"{name}-{pool.name}-nodepool",
            api_version=charts.KARPENTER_API,
            kind="NodePool",
            metadata={"name": physical, "labels": dict(labels)},
            spec=spec,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[nodeclass])),
        )
    return out
