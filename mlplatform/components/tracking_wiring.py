"""How training jobs reach an experiment tracker: the interface between trackers and runtimes.

Each ExperimentTracker publishes one `TrackingWiring` per TrainingCluster it serves in
`ctx.shared["tracking_wiring"][cluster_name]` (a list: a cluster may use MLflow and W&B). A
training runtime puts `env_vars()` into its job containers and calls `grant(role, label)` for
the IAM role its jobs run as; the program already does both for what exists today (the EKS job
role, and the `<cluster>_tracking_env` stack output next to the job pod template). Values that
are secret are only ever referenced (`valueFrom.secretKeyRef` to a Secret in the job's
namespace), never inlined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

SHARED_KEY = "tracking_wiring"


@dataclass(frozen=True)
class SecretKeyRef:
    """A key of a Kubernetes Secret in the job's namespace."""

    secret: str
    key: str


Grant = Callable[[Any, str], object]  # (aws.iam.Role, label) -> the policy resource it created


@dataclass
class TrackingWiring:
    tracker: str  # the ExperimentTracker's name
    backend: str  # "mlflow" or "wandb"
    training_cluster: str
    env: dict[str, pulumi.Input[str]] = field(default_factory=dict)  # plain settings
    secret_env: dict[str, SecretKeyRef] = field(default_factory=dict)  # credentials, by reference
    grant: Grant | None = None  # IAM the job role needs (None: nothing on AWS)
    requires: list[str] = field(default_factory=list)  # what the cluster must run for it

    def env_vars(self) -> list[dict[str, Any]]:
        """Kubernetes EnvVar objects, settings first, then secret references, each sorted."""
        out: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(self.env.items())]
        out += [
            {"name": k, "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.key}}}
            for k, ref in sorted(self.secret_env.items())
        ]
        return out


def publish(shared: dict[str, Any], wiring: TrackingWiring) -> None:
    shared.setdefault(SHARED_KEY, {}).setdefault(wiring.training_cluster, []).append(wiring)


def wirings(shared: dict[str, Any], cluster: str) -> list[TrackingWiring]:
    found: list[TrackingWiring] = shared.get(SHARED_KEY, {}).get(cluster, [])
    return found


def export_env(shared: dict[str, Any]) -> None:
    """Stack output `<cluster>_tracking_env` per cluster: what its jobs' containers get."""
    for cluster, items in sorted(shared.get(SHARED_KEY, {}).items()):
        pulumi.export(f"{cluster}_tracking_env", [v for w in items for v in w.env_vars()])


@dataclass
class JobTarget:
    """Where one TrainingCluster's jobs run, as a tracker needs to know it to wire them."""

    cluster: str  # TrainingCluster name
    namespace: str
    service_account: str  # the jobs' service account
    provider: Any  # pulumi_kubernetes Provider of the cluster the namespace is on
    depends_on: list[pulumi.Resource] = field(default_factory=list)  # the namespace, ...
    role: Any | None = None  # aws.iam.Role of the jobs (IRSA), None when they have no AWS identity
