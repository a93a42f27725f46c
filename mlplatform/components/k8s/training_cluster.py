"""TrainingCluster on an existing cluster: a namespace where training jobs run within a quota.

What a team gets: its namespace (Pod Security `restricted` enforced), a ResourceQuota on GPUs,
CPU, memory and pods, a LimitRange so that pods without requests still count against it, a
PriorityClass that never preempts serving, and a `runner` ServiceAccount whose Role manages
batch Jobs (and reads pods and their logs) in that namespace only. The outputs carry a pod
template with the GPU tolerations and node selector for job specs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components.k8s import common
from mlplatform.spec.training_cluster import TrainingCluster as ClusterSpec

# Above the default (0) so queued training pods schedule before best-effort ones, with
# preemption off so a job never evicts a serving pod.
PRIORITY_VALUE = 1000

# What a pod gets when it states no resources (requests are needed for the quota to apply).
DEFAULT_REQUEST = {"cpu": "500m", "memory": "1Gi"}
DEFAULT_LIMIT = {"cpu": "1", "memory": "2Gi"}


@dataclass(frozen=True)
class TrainingClusterArgs:
    spec: ClusterSpec
    scope: common.Scope


class TrainingCluster(pulumi.ComponentResource):
    """Outputs: `namespace`, `service_account`, `priority_class`, `gpu_tolerations`,
    `gpu_node_selector`, `job_pod_template`."""

    def __init__(self, name: str, args: TrainingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:TrainingCluster", name, None, opts)
        spec, scope = args.spec, args.scope
        ns_name = scope.names.namespace(spec.name)
        self.namespace_name = ns_name
        labels = scope.labels(name=spec.name, instance=ns_name, component="training")
        child = common.child_options(self, opts)

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=scope.namespace_metadata(ns_name, "training"), opts=child
        )
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.namespace]))

        def meta(object_name: str) -> dict[str, object]:
            return {"name": object_name, "namespace": ns_name, "labels": dict(labels)}

        quota = spec.quota
        hard = {
            "requests.cpu": str(quota.cpu),
            "limits.cpu": str(quota.cpu),
            "requests.memory": f"{quota.memory_gb}Gi",
            "limits.memory": f"{quota.memory_gb}Gi",
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
                        "default": dict(DEFAULT_LIMIT),
                        # No single container may ask for more than the whole quota.
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
        self.job_pod_template = common.job_pod_template(
            namespace=ns_name, service_account=runner, priority_class=priority_name, gpu=quota.gpus > 0
        )
        self.register_outputs(
            {
                "namespace": ns_name,
                "service_account": runner,
                "priority_class": priority_name,
                "gpu_tolerations": [dict(t) for t in common.GPU_TOLERATIONS],
                "gpu_node_selector": dict(common.GPU_NODE_SELECTOR),
                "job_pod_template": self.job_pod_template,
            }
        )
