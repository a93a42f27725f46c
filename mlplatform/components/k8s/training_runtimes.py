"""Kubeflow Trainer runtimes of a TrainingCluster, and the TrainJobs that run on them.

Two TrainingRuntimes in the training namespace (namespaced, so each platform environment has
its own service account and placement): `torch-distributed` (PyTorch over several nodes; the
Trainer's torch plugin sets up torchrun's rendezvous through the JobSet's headless service) and
`torch-single-node`. Both run the platform's hardened pod template: non-root, read-only root
filesystem with writable /tmp and a memory-backed /dev/shm (PyTorch's data loaders share
tensors there), requests equal to limits, the training jobs' service account (IRSA on EKS), the
training PriorityClass (below serving), and, when the quota grants GPUs, `nvidia.com/gpu` with
the GPU taint's toleration and the GPU node selector.

`train_job()` renders a TrainJob for a runtime: `mlplatform train render` prints it for
`kubectl apply -f -`. It carries the queue label, so Kueue admits it against the ClusterQueue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components import charts
from mlplatform.components.k8s import common
from mlplatform.components.k8s.training_queues import LOCAL_QUEUE, PRIORITY_LABEL, QUEUE_LABEL

DISTRIBUTED = "torch-distributed"
SINGLE_NODE = "torch-single-node"
RUNTIMES = (DISTRIBUTED, SINGLE_NODE)
# The Trainer's torch plugin drives the replicated job and container named `node` whose job
# carries this ancestor label (as in the upstream torch-distributed runtime).
NODE = "node"
ANCESTOR_LABEL = "trainer.kubeflow.org/trainjob-ancestor-step"
# A default image the runtimes name; every TrainJob rendered by the CLI sets its own.
# (the image of the upstream torch-distributed runtime of Kubeflow Trainer 2.3.0).
DEFAULT_IMAGE = "pytorch/pytorch:2.13.0-cuda13.0-cudnn9-runtime"
SHM_SIZE = "16Gi"
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"


@dataclass(frozen=True)
class NodeResources:
    """What one training node (pod) requests, equal to its limits."""

    cpu: str = "4"
    memory: str = "16Gi"
    gpus: int = 1

    def as_resources(self) -> dict[str, Any]:
        return common.resources(self.cpu, self.memory, self.gpus)


GPU_DEFAULTS = NodeResources()
CPU_DEFAULTS = NodeResources(cpu="2", memory="8Gi", gpus=0)


@dataclass(frozen=True)
class RuntimeContext:
    """Where the runtimes run: namespace, identities and placement."""

    namespace: str
    service_account: str
    priority_class: str
    gpu: bool  # the quota grants GPUs: GPU placement and one GPU per node by default
    env: list[dict[str, Any]] = field(default_factory=list)  # e.g. experiment tracking, by reference
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def defaults(self) -> NodeResources:
        return GPU_DEFAULTS if self.gpu else CPU_DEFAULTS


def pod_spec(ctx: RuntimeContext) -> dict[str, Any]:
    """The hardened pod spec of a training node."""
    container: dict[str, Any] = {
        "name": NODE,
        "image": DEFAULT_IMAGE,
        "securityContext": common.container_security(),
        "resources": ctx.defaults.as_resources(),
        # A writable home for caches (torch, pip, HF) on the read-only root filesystem.
        "env": [{"name": "HOME", "value": "/tmp"}, *[dict(e) for e in ctx.env]],
        "volumeMounts": [common.tmp_mount(), {"name": "dshm", "mountPath": "/dev/shm"}],
    }
    spec: dict[str, Any] = {
        "serviceAccountName": ctx.service_account,
        "automountServiceAccountToken": False,
        "priorityClassName": ctx.priority_class,
        "restartPolicy": "Never",
        "securityContext": common.pod_security(),
        "containers": [container],
        "volumes": [
            common.tmp_volume("50Gi"),
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}},
        ],
    }
    if ctx.gpu:
        spec["nodeSelector"] = dict(common.GPU_NODE_SELECTOR)
        spec["tolerations"] = [dict(t) for t in common.GPU_TOLERATIONS]
    return spec


def runtime_spec(ctx: RuntimeContext, nodes: int) -> dict[str, Any]:
    return {
        "mlPolicy": {"numNodes": nodes, "torch": {}},
        "template": {
            "spec": {
                # A node lost (spot interruption, hardware) restarts the whole gang, a few times.
                "failurePolicy": {"maxRestarts": 3},
                "replicatedJobs": [
                    {
                        "name": NODE,
                        "template": {
                            "metadata": {"labels": {ANCESTOR_LABEL: "trainer"}},
                            "spec": {
                                "template": {
                                    # Karpenter neither consolidates nor drifts a node away under a
                                    # running training pod (Karpenter docs, "Disruption": pod-level controls).
                                    "metadata": {"labels": dict(ctx.labels), "annotations": {DO_NOT_DISRUPT: "true"}},
                                    "spec": pod_spec(ctx),
                                }
                            },
                        },
                    }
                ],
            }
        },
    }


@dataclass
class TrainingRuntimesArgs:
    context: RuntimeContext
    depends_on: list[pulumi.Resource] = field(default_factory=list)  # the Trainer's release, the namespace


class TrainingRuntimes(pulumi.ComponentResource):
    """Outputs: `runtimes` (names), `namespace`."""

    def __init__(self, name: str, args: TrainingRuntimesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:TrainingRuntimes", name, None, opts)
        ctx = args.context
        # After what the component waits for (its options' depends_on is not inherited) and its own.
        waits = list(opts.depends_on or []) if opts is not None and isinstance(opts.depends_on, list) else []
        child = pulumi.ResourceOptions(parent=self, depends_on=[*waits, *args.depends_on])
        self.runtimes: dict[str, k8s.apiextensions.CustomResource] = {}
        for runtime, nodes in ((DISTRIBUTED, 2), (SINGLE_NODE, 1)):
            self.runtimes[runtime] = k8s.apiextensions.CustomResource(
                f"{name}-{runtime}",
                api_version=charts.TRAINER_API,
                kind="TrainingRuntime",
                metadata={
                    "name": runtime,
                    "namespace": ctx.namespace,
                    "labels": {**ctx.labels, "trainer.kubeflow.org/framework": "torch"},
                },
                spec=runtime_spec(ctx, nodes),
                opts=child,
            )
        self.register_outputs({"runtimes": sorted(self.runtimes), "namespace": ctx.namespace})


def train_job(
    *,
    name: str,
    namespace: str,
    runtime: str,
    image: str,
    command: list[str],
    nodes: int,
    resources: NodeResources,
    procs_per_node: int | None = None,
    priority: str | None = None,
    env: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A TrainJob on one of the runtimes, queued in the namespace's LocalQueue."""
    job_labels = {**(labels or {}), QUEUE_LABEL: LOCAL_QUEUE}
    if priority:
        job_labels[PRIORITY_LABEL] = priority
    trainer: dict[str, Any] = {
        "image": image,
        "command": list(command),
        "numNodes": nodes,
        "resourcesPerNode": resources.as_resources(),
    }
    if procs_per_node is not None:
        trainer["numProcPerNode"] = procs_per_node
    if env:
        trainer["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    return {
        "apiVersion": charts.TRAINER_API,
        "kind": "TrainJob",
        "metadata": {"name": name, "namespace": namespace, "labels": job_labels},
        "spec": {
            "runtimeRef": {"apiGroup": "trainer.kubeflow.org", "kind": "TrainingRuntime", "name": runtime},
            "trainer": trainer,
        },
    }
