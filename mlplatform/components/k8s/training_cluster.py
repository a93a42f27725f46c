"""TrainingCluster on an existing cluster: a namespace where training jobs run within a quota.

What a team gets: its namespace (the platform's Pod Security level enforced), a ResourceQuota
on the GPUs, CPU, memory and pods its jobs request, a LimitRange so that containers without
requests still count against it, a PriorityClass below serving's that never preempts, and a
`runner` ServiceAccount whose Role manages batch Jobs (and reads pods and their logs) in that
namespace only. Jobs queue in Kueue (training_queues.py) and run on Kubeflow Trainer runtimes
(training_runtimes.py); the outputs carry a pod template with the GPU tolerations and node selector.

The quota counts requests only, the scheduler's currency. A LimitRange `default` limit below a
container's own request makes the API server reject that container ("must be less than or
equal to the limit"), so the LimitRange sets a default request and a maximum, and Kubernetes
then defaults a missing limit to that maximum (LimitRangeItem defaulting): a container that
states only larger requests is admitted, and one that states nothing gets a small request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components.k8s import common, karpenter_pools
from mlplatform.components.k8s.training_charts import TrainingControllers
from mlplatform.components.k8s.training_queues import TrainingQueues, TrainingQueuesArgs
from mlplatform.components.k8s.training_runtimes import RuntimeContext, TrainingRuntimes, TrainingRuntimesArgs
from mlplatform.spec.training_cluster import TrainingCluster as ClusterSpec
from mlplatform.spec.training_equipment import DeclaredKarpenter

# Above the default (0) so queued training pods schedule before best-effort ones, below serving
# (common.SERVING_PRIORITY), with preemption off so a job never evicts anything.
PRIORITY_VALUE = common.TRAINING_PRIORITY

# What a container gets when it states no requests (requests are what the quota counts).
DEFAULT_REQUEST = {"cpu": "500m", "memory": "1Gi"}


@dataclass(frozen=True)
class TrainingClusterArgs:
    spec: ClusterSpec
    scope: common.Scope
    controllers: TrainingControllers = field(default_factory=TrainingControllers)
    karpenter: DeclaredKarpenter | None = None  # node pools become NodePools of this Karpenter
    pod_security_level: str = common.POD_SECURITY_LEVEL  # the platform's, on every namespace it creates
    # Experiment tracking for the runtimes' containers (mlplatform.components.tracking_wiring.runtime_env).
    tracking_env: list[dict[str, Any]] = field(default_factory=list)


class TrainingCluster(pulumi.ComponentResource):
    """Outputs: `namespace`, `service_account`, `priority_class`, `gpu_tolerations`,
    `gpu_node_selector`, `job_pod_template`."""

    def __init__(self, name: str, args: TrainingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:TrainingCluster", name, None, opts)
        spec, scope = args.spec, args.scope
        self.spec = spec
        ns_name = scope.names.namespace(spec.name)
        self.namespace_name = ns_name
        labels = scope.labels(name=spec.name, instance=ns_name, component="training")
        child = common.child_options(self, opts)

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=scope.namespace_metadata(ns_name, "training", args.pod_security_level),
            opts=child,
        )
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.namespace]))

        def meta(object_name: str) -> dict[str, object]:
            return {"name": object_name, "namespace": ns_name, "labels": dict(labels)}

        quota = spec.quota
        hard = {
            "requests.cpu": str(quota.cpu),
            "requests.memory": f"{quota.memory_gb}Gi",
            f"requests.{common.GPU_RESOURCE}": str(quota.gpus),
            "pods": str(quota.pods),
        }
        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=meta(f"{ns_name}-quota"), spec={"hard": hard}, opts=in_ns
        )
        self.limit_range = k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta(f"{ns_name}-limits"),
            spec={
                "limits": [
                    {
                        "type": "Container",
                        "defaultRequest": dict(DEFAULT_REQUEST),
                        # No single container may ask for more than the whole quota; a missing
                        # limit defaults to this maximum.
                        "max": {"cpu": str(quota.cpu), "memory": f"{quota.memory_gb}Gi"},
                    }
                ]
            },
            opts=in_ns,
        )
        priority_name = f"{ns_name}-training"
        self.priority_class = k8s.scheduling.v1.PriorityClass(
            f"{name}-priority",
            metadata={"name": priority_name, "labels": dict(labels)},
            value=PRIORITY_VALUE,
            preemption_policy="Never",
            global_default=False,
            description=f"Training jobs of {scope.platform} ({scope.env}); queue ahead, never preempt.",
            opts=child,
        )
        runner = f"{ns_name}-runner"
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-runner", metadata=meta(runner), automount_service_account_token=False, opts=in_ns
        )
        self.role = k8s.rbac.v1.Role(
            f"{name}-runner-role",
            metadata=meta(runner),
            rules=[
                {
                    "apiGroups": ["batch"],
                    "resources": ["jobs"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                },
                {"apiGroups": ["batch"], "resources": ["jobs/status"], "verbs": ["get"]},
                {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
                {
                    "apiGroups": ["trainer.kubeflow.org"],
                    "resources": ["trainjobs"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                },
                {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs/status"], "verbs": ["get"]},
                {"apiGroups": ["kueue.x-k8s.io"], "resources": ["workloads"], "verbs": ["get", "list", "watch"]},
            ],
            opts=in_ns,
        )
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-runner-binding",
            metadata=meta(runner),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": runner},
            subjects=[{"kind": "ServiceAccount", "name": runner, "namespace": ns_name}],
            opts=pulumi.ResourceOptions.merge(
                in_ns, pulumi.ResourceOptions(depends_on=[self.role, self.service_account])
            ),
        )
        # The identity of training pods (the runner's is for whoever submits jobs).
        jobs = f"{ns_name}-jobs"
        self.jobs_account = k8s.core.v1.ServiceAccount(
            f"{name}-jobs-sa", metadata=meta(jobs), automount_service_account_token=False, opts=in_ns
        )
        self.job_pod_template = common.job_pod_template(
            namespace=ns_name, service_account=jobs, priority_class=priority_name, gpu=quota.gpus > 0
        )
        controllers = args.controllers
        self.queues = TrainingQueues(
            f"{name}-queues",
            TrainingQueuesArgs(
                namespace=ns_name,
                quota=quota,
                pools=list(spec.node_pools),
                labels=dict(labels),
                depends_on=[self.namespace, *controllers.depends("kueue")],
            ),
            opts=child,
        )
        self.runtimes = TrainingRuntimes(
            f"{name}-runtimes",
            TrainingRuntimesArgs(
                context=RuntimeContext(
                    namespace=ns_name,
                    service_account=jobs,
                    priority_class=priority_name,
                    gpu=quota.gpus > 0,
                    env=list(args.tracking_env),
                    labels=dict(labels),
                ),
                depends_on=[self.namespace, self.jobs_account, self.priority_class, *controllers.depends("trainer")],
            ),
            opts=child,
        )
        self.node_pools: dict[str, k8s.apiextensions.CustomResource] = {}
        if args.karpenter is not None and spec.node_pools:
            discovery = [{"tags": {"karpenter.sh/discovery": args.karpenter.discovery_tag}}]
            self.node_pools = karpenter_pools.create(
                name,
                pools=list(spec.node_pools),
                prefix=ns_name,
                node_class=karpenter_pools.NodeClassArgs(
                    role=args.karpenter.node_role,
                    subnets=discovery,
                    security_groups=discovery,
                    ami_alias=spec.node_image,
                ),
                labels=dict(labels),
                opts=child,
            )
        self.register_outputs(
            {
                "namespace": ns_name,
                "service_account": runner,
                "jobs_service_account": jobs,
                "cluster_queue": self.queues.cluster_queue_name,
                "runtimes": sorted(self.runtimes.runtimes),
                "priority_class": priority_name,
                "gpu_tolerations": [dict(t) for t in common.GPU_TOLERATIONS],
                "gpu_node_selector": dict(common.GPU_NODE_SELECTOR),
                "job_pod_template": self.job_pod_template,
            }
        )
