"""The training controllers a cluster needs, as pinned Helm releases: the NVIDIA device plugin,
Kueue, and Kubeflow Trainer with JobSet (versions in `mlplatform.components.charts`).

What the cluster already runs (declared in `Platform.kubernetes.training`) is not installed again:
two Helm releases of Kueue on one cluster would fight over its CRDs and webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components import charts
from mlplatform.components.k8s import common
from mlplatform.spec.training_equipment import TrainingEquipment

# Taint of the system node group of a cluster the platform creates: only controllers run there.
SYSTEM_TAINT_KEY = "CriticalAddonsOnly"
SYSTEM_POOL = "system"

# Kueue's configuration: the chart's default with waitForPodsReady on, so that a distributed job
# whose pods cannot all start (nodes still coming up from zero count as starting) is evicted and
# requeued after the timeout instead of holding its quota half-scheduled. The timeout covers a
# GPU node launched from zero (instance, AMI boot, driver, image pull).
KUEUE_CONFIG = """\
apiVersion: config.kueue.x-k8s.io/v1beta2
kind: Configuration
health:
  healthProbeBindAddress: :8081
metrics:
  bindAddress: :8443
webhook:
  port: 9443
leaderElection:
  leaderElect: true
  resourceName: c1f6bfd2.kueue.x-k8s.io
controller:
  groupKindConcurrency:
    Job.batch: 5
    Pod: 5
    Workload.kueue.x-k8s.io: 10
    LocalQueue.kueue.x-k8s.io: 5
    ClusterQueue.kueue.x-k8s.io: 5
    ResourceFlavor.kueue.x-k8s.io: 1
clientConnection:
  qps: 300
  burst: 500
waitForPodsReady:
  timeout: 20m
  blockAdmission: false
  requeuingStrategy:
    timestamp: Eviction
    backoffLimitCount: 5
    backoffBaseSeconds: 60
    backoffMaxSeconds: 3600
integrations:
  frameworks:
  - "batch/job"
  - "jobset.x-k8s.io/jobset"
  - "trainer.kubeflow.org/trainjob"
"""


@dataclass(frozen=True)
class Placement:
    """Where controllers run: the system nodes of a cluster the platform creates, or anywhere."""

    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, str]] = field(default_factory=list)


SYSTEM_PLACEMENT = Placement(
    node_selector={f"{common.LABEL_PREFIX}/node-pool": SYSTEM_POOL},
    tolerations=[{"key": SYSTEM_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
)


@dataclass
class TrainingControllers:
    """The releases installed here, by what they provide; absent keys were declared present."""

    releases: dict[str, k8s.helm.v3.Release] = field(default_factory=dict)

    def depends(self, *what: str) -> list[pulumi.Resource]:
        """What a custom resource of those kinds waits for (its CRD and webhook come with them)."""
        return [self.releases[w] for w in what if w in self.releases]


def _placed(placement: Placement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if placement.node_selector:
        out["nodeSelector"] = dict(placement.node_selector)
    if placement.tolerations:
        out["tolerations"] = [dict(t) for t in placement.tolerations]
    return out


def _release(
    name: str, chart: charts.Chart, values: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        f"{name}-{chart.release}",
        name=chart.release,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository) if chart.repository else None,
        namespace=chart.namespace,
        create_namespace=False,
        values=values,
        atomic=True,  # a failed install or upgrade rolls back instead of leaving a half release
        timeout=900,
        opts=opts,
    )


def _namespace(
    name: str, chart: charts.Chart, labels: dict[str, str], opts: pulumi.ResourceOptions
) -> k8s.core.v1.Namespace:
    # Enforce baseline; audit and warn at restricted. The charts' pods set restricted-compatible
    # security contexts in their default values, but their templates were not rendered here.
    labels = {**labels, "app.kubernetes.io/name": chart.release, "app.kubernetes.io/instance": chart.namespace}
    labels.update(
        {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        }
    )
    return k8s.core.v1.Namespace(
        f"{name}-{chart.namespace}", metadata={"name": chart.namespace, "labels": labels}, opts=opts
    )


def install(
    name: str,
    *,
    opts: pulumi.ResourceOptions,
    declared: TrainingEquipment,
    gpus: bool,
    placement: Placement,
    labels: dict[str, str],
) -> TrainingControllers:
    """Helm releases for what training needs and the cluster does not declare, with `opts`
    (parent or provider, and what they wait for). `gpus`: some training quota grants GPUs, so
    the device plugin is needed."""
    out = TrainingControllers()
    placed = _placed(placement)
    if gpus and not declared.nvidia_device_plugin:
        # The chart's defaults already tolerate the nvidia.com/gpu taint and select nodes labelled
        # nvidia.com/gpu.present=true (which the platform's GPU node pools carry).
        out.releases["device_plugin"] = _release(name, charts.NVIDIA_DEVICE_PLUGIN, {}, opts)
    if not declared.kubeflow_trainer:
        ns = _namespace(name, charts.KUBEFLOW_TRAINER, labels, opts)
        repository, tag = charts.TRAINER_IMAGE
        registry, _, path = repository.partition("/")
        jobset_repository, jobset_tag = charts.JOBSET_IMAGE
        values = {
            "image": {"registry": registry, "repository": path, "tag": tag},
            "manager": dict(placed),
            "jobset": {
                "install": not declared.jobset,
                "image": {"repository": jobset_repository, "tag": jobset_tag, "pullPolicy": "IfNotPresent"},
                "controller": dict(placed),
            },
        }
        out.releases["trainer"] = _release(
            name, charts.KUBEFLOW_TRAINER, values, pulumi.ResourceOptions.merge(opts, _after([ns]))
        )
    if not declared.kueue:
        ns = _namespace(name, charts.KUEUE, labels, opts)
        repository, tag = charts.KUEUE_IMAGE
        values = {
            "controllerManager": {
                "manager": {"image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"}},
                **placed,
            },
            "managerConfig": {"controllerManagerConfigYaml": KUEUE_CONFIG},
        }
        # Kueue sets up its trainjob and jobset integrations for the CRDs it finds when it starts.
        out.releases["kueue"] = _release(
            name, charts.KUEUE, values, pulumi.ResourceOptions.merge(opts, _after([ns, *out.depends("trainer")]))
        )
    return out


def _after(resources: list[pulumi.Resource]) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(depends_on=resources)
