"""Wiring experiment trackers into training: after both sides built their clusters and servers.

The AWS side builds SageMaker managed MLflow servers, the Kubernetes side the MLflow chart; both
publish them in `ctx.shared["trackers"]` and each TrainingCluster's `JobTarget` in
`ctx.shared["job_targets"]`. Here every tracker is connected to the clusters it serves: IAM for
the jobs' role, credentials into the jobs' namespace, and a `TrackingWiring` per cluster
(see `mlplatform.components.tracking_wiring`), exported as `<cluster>_tracking_env`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from mlplatform.components import tracking_wiring
from mlplatform.components.aws.experiment_tracker import ManagedMlflow
from mlplatform.components.k8s.wandb import WandbArgs, WandbTracker
from mlplatform.components.tracking_wiring import JobTarget, TrackingWiring
from mlplatform.errors import MlplatformError
from mlplatform.spec.experiment_tracker import ExperimentTracker as TrackerSpec
from mlplatform.spec.tracker_rules import consumers

if TYPE_CHECKING:
    from mlplatform.context import ProgramContext


def build(ctx: ProgramContext) -> None:
    shared: dict[str, Any] = ctx.shared
    targets: dict[str, JobTarget] = shared.get("job_targets", {})
    servers: dict[str, Any] = shared.get("trackers", {})
    for spec in ctx.platform.of_kind(TrackerSpec):
        jobs = [targets[c.name] for c in consumers(ctx.platform, spec) if c.name in targets]
        if spec.backend == "wandb":
            tracker = WandbTracker(
                spec.name,
                WandbArgs(
                    spec=spec,
                    names=ctx.names,
                    targets=jobs,
                    region=shared.get("region", ctx.platform.region),
                    account_id=shared.get("account_id", ""),
                    partition=shared.get("partition", "aws"),
                ),
            )
            for wiring in tracker.wirings:
                tracking_wiring.publish(shared, wiring)
            continue
        server = servers.get(spec.name)
        if server is None:
            raise MlplatformError(f"ExperimentTracker '{spec.name}' was not built; it cannot be wired to its jobs")
        for job in jobs:
            tracking_wiring.publish(shared, _mlflow_wiring(spec, server, job))
    # Declared in Platform.kubernetes.external_secrets (validated); logged by `pulumi up` as a reminder.
    for cluster, items in sorted(shared.get(tracking_wiring.SHARED_KEY, {}).items()):
        for w in items:
            for need in w.requires:
                pulumi.log.info(f"TrainingCluster '{cluster}': {w.backend} tracker '{w.tracker}' needs {need}")
    tracking_wiring.export_env(shared)


def _mlflow_wiring(spec: TrackerSpec, server: Any, job: JobTarget) -> TrackingWiring:
    if isinstance(server, ManagedMlflow):
        if job.role is None:
            raise MlplatformError(
                f"ExperimentTracker '{spec.name}': the jobs of TrainingCluster '{job.cluster}' have no IAM role to "
                "call SageMaker MLflow with"
            )
        server.grant_use(job.role, job.cluster)
        wiring = tracking_wiring.managed_mlflow(spec, job.cluster, server.tracking_uri)
        wiring.grant = server.grant_use
        return wiring
    wired: TrackingWiring = server.wire(job)
    return wired
