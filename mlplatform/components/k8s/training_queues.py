"""Kueue queues for a TrainingCluster: jobs wait in line for the blueprint's Quota instead of
failing on the namespace's ResourceQuota.

- a ResourceFlavor per kind of capacity (GPU or CPU, spot or on-demand): its nodeLabels select
  the nodes (Kueue adds them to the admitted pods' node selectors), and a GPU flavor carries the
  GPU taint as `nodeTaints`, so only workloads that tolerate it (the GPU runtimes) are admitted
  to it and CPU jobs never take GPU nodes;
- one ClusterQueue per TrainingCluster, selecting only its namespace, whose nominal quotas over
  all flavors add up to the blueprint's Quota (GPUs over the GPU flavors only);
- a LocalQueue named `default` in the namespace: Kueue's webhook gives every Job, JobSet and
  TrainJob created there without a `kueue.x-k8s.io/queue-name` label that queue, so nothing in
  the namespace bypasses the queue (Kueue's default-LocalQueue behaviour);
- WorkloadPriorityClasses high / normal / low for the order jobs are admitted in (Kueue only:
  they do not change pod priority, so serving keeps outranking training).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components import charts
from mlplatform.components.k8s import common
from mlplatform.spec.training_cluster import NodePool, Quota

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
LOCAL_QUEUE = "default"  # the name Kueue defaults queue-less jobs to
GPU_LABEL = f"{common.LABEL_PREFIX}/gpu"
CAPACITY_LABEL = f"{common.LABEL_PREFIX}/capacity"
POOL_LABEL = f"{common.LABEL_PREFIX}/node-pool"
GPU_TAINT = {"key": common.GPU_RESOURCE, "value": "true", "effect": "NoSchedule"}
RESOURCES = ("cpu", "memory", common.GPU_RESOURCE)

# Admission order within the queue (higher first); `normal` is what a job without the label gets
# only if it names it, so the CLI always sets one.
WORKLOAD_PRIORITIES = {"high": 1000, "normal": 100, "low": 10}


@dataclass(frozen=True)
class Flavor:
    """One kind of capacity."""

    kind: str  # gpu-on-demand, cpu-spot, ... or gpu / cpu when the nodes are the cluster's own
    gpu: bool
    node_labels: dict[str, str]
    weight: int  # share of the quota: the most nodes this capacity can have (1 when unknown)


def pool_labels(pool: NodePool) -> dict[str, str]:
    """Labels every node of a blueprint node pool carries (node group or Karpenter NodePool)."""
    labels = {
        **pool.labels,
        POOL_LABEL: pool.name,
        CAPACITY_LABEL: "spot" if pool.spot else "on-demand",
        GPU_LABEL: "true" if pool.gpu else "false",
    }
    if pool.gpu:
        labels.update(common.GPU_NODE_SELECTOR)
    return labels


def flavors(pools: list[NodePool], gpus: bool) -> list[Flavor]:
    """CPU kinds before GPU kinds, so that Kueue tries CPU capacity first for a CPU job. Without
    node pools (the cluster's own nodes): a `cpu` flavor for any node, and a `gpu` flavor for the
    nodes that advertise GPUs when the quota grants some."""
    if not pools:
        found = [Flavor("cpu", False, {}, 1)]
        if gpus:
            found.append(Flavor("gpu", True, dict(common.GPU_NODE_SELECTOR), 1))
        return found
    kinds: dict[tuple[bool, bool], int] = {}
    for pool in pools:
        kinds[(pool.gpu, pool.spot)] = kinds.get((pool.gpu, pool.spot), 0) + pool.max_nodes
    ordered = sorted(kinds, key=lambda k: (k[0], k[1]))
    return [
        Flavor(
            f"{'gpu' if gpu else 'cpu'}-{'spot' if spot else 'on-demand'}",
            gpu,
            {GPU_LABEL: "true" if gpu else "false", CAPACITY_LABEL: "spot" if spot else "on-demand"},
            kinds[(gpu, spot)],
        )
        for gpu, spot in ordered
        if gpus or not gpu
    ]


def split(total: int, weights: list[int]) -> list[int]:
    """`total` in whole units over `weights`, proportionally; the remainders go to the largest
    fractions (ties: the earlier one), so the parts always add up to `total`."""
    if not weights:
        return []
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def nominal_quotas(quota: Quota, found: list[Flavor]) -> dict[str, dict[str, int]]:
    """flavor kind -> resource -> nominal quota (memory in GiB). Every resource sums to the Quota."""
    out: dict[str, dict[str, int]] = {f.kind: {} for f in found}
    weights = [f.weight for f in found]
    for resource, total in (("cpu", quota.cpu), ("memory", quota.memory_gb)):
        for f, part in zip(found, split(total, weights), strict=True):
            out[f.kind][resource] = part
    gpu_flavors = [f for f in found if f.gpu]
    gpu_parts = split(quota.gpus, [f.weight for f in gpu_flavors])
    for f in found:
        out[f.kind][common.GPU_RESOURCE] = 0
    for f, part in zip(gpu_flavors, gpu_parts, strict=True):
        out[f.kind][common.GPU_RESOURCE] = part
    return out


class _TopLevelFields(k8s.apiextensions.CustomResource):
    """A custom resource whose fields sit beside metadata, not under spec (WorkloadPriorityClass
    has `value` and `description`): `CustomResource` only takes spec."""

    def __init__(
        self,
        resource_name: str,
        api_version: str,
        kind: str,
        metadata: dict[str, object],
        fields: dict[str, object],
        opts: pulumi.ResourceOptions,
    ) -> None:
        props = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}
        pulumi.CustomResource.__init__(self, f"kubernetes:{api_version}:{kind}", resource_name, props, opts)


@dataclass
class TrainingQueuesArgs:
    namespace: str
    quota: Quota
    pools: list[NodePool] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    depends_on: list[pulumi.Resource] = field(default_factory=list)  # Kueue's release, the namespace


class TrainingQueues(pulumi.ComponentResource):
    """Outputs: `cluster_queue`, `local_queue`, `flavors`, `priority_classes`."""

    def __init__(self, name: str, args: TrainingQueuesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:TrainingQueues", name, None, opts)
        ns = args.namespace
        # After what the component waits for (its options' depends_on is not inherited) and its own.
        waits = list(opts.depends_on or []) if opts is not None and isinstance(opts.depends_on, list) else []
        child = pulumi.ResourceOptions(parent=self, depends_on=[*waits, *args.depends_on])
        self.cluster_queue_name = ns  # cluster-scoped: named after its namespace, unique per platform env
        self.flavors = flavors(args.pools, args.quota.gpus > 0)
        quotas = nominal_quotas(args.quota, self.flavors)

        def meta(object_name: str, namespace: str | None = None) -> dict[str, object]:
            out: dict[str, object] = {"name": object_name, "labels": dict(args.labels)}
            if namespace:
                out["namespace"] = namespace
            return out

        flavor_objects = []
        for f in self.flavors:
            spec: dict[str, object] = {"nodeLabels": dict(f.node_labels)} if f.node_labels else {}
            if f.gpu:
                spec["nodeTaints"] = [dict(GPU_TAINT)]
            flavor_objects.append(
                k8s.apiextensions.CustomResource(
                    f"{name}-flavor-{f.kind}",
                    api_version=charts.KUEUE_API,
                    kind="ResourceFlavor",
                    metadata=meta(self.flavor_name(f)),
                    spec=spec,
                    opts=child,
                )
            )
        self.priority_classes = {
            level: f"{ns}-{level}" for level in WORKLOAD_PRIORITIES
        }  # cluster-scoped: prefixed like the queue
        for level, value in WORKLOAD_PRIORITIES.items():
            _TopLevelFields(
                f"{name}-priority-{level}",
                charts.KUEUE_API,
                "WorkloadPriorityClass",
                meta(self.priority_classes[level]),
                {"value": value, "description": f"{level} admission order for training jobs of {ns}"},
                child,
            )
        self.cluster_queue = k8s.apiextensions.CustomResource(
            f"{name}-cluster-queue",
            api_version=charts.KUEUE_API,
            kind="ClusterQueue",
            metadata=meta(self.cluster_queue_name),
            spec={
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
                "queueingStrategy": "BestEffortFIFO",
                "resourceGroups": [
                    {
                        "coveredResources": list(RESOURCES),
                        "flavors": [
                            {
                                "name": self.flavor_name(f),
                                "resources": [
                                    {"name": "cpu", "nominalQuota": quotas[f.kind]["cpu"]},
                                    {"name": "memory", "nominalQuota": f"{quotas[f.kind]['memory']}Gi"},
                                    {"name": common.GPU_RESOURCE, "nominalQuota": quotas[f.kind][common.GPU_RESOURCE]},
                                ],
                            }
                            for f in self.flavors
                        ],
                    }
                ],
                # A high-priority job may evict a lower-priority one of the same queue; never others.
                "preemption": {"withinClusterQueue": "LowerPriority", "reclaimWithinCohort": "Never"},
            },
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=flavor_objects)),
        )
        self.local_queue = k8s.apiextensions.CustomResource(
            f"{name}-local-queue",
            api_version=charts.KUEUE_API,
            kind="LocalQueue",
            metadata=meta(LOCAL_QUEUE, ns),
            spec={"clusterQueue": self.cluster_queue_name},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.cluster_queue])),
        )
        self.register_outputs(
            {
                "cluster_queue": self.cluster_queue_name,
                "local_queue": LOCAL_QUEUE,
                "flavors": [self.flavor_name(f) for f in self.flavors],
                "priority_classes": dict(self.priority_classes),
            }
        )

    def flavor_name(self, f: Flavor) -> str:
        return f"{self.cluster_queue_name}-{f.kind}"
