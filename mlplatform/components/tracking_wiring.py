"""How training jobs reach an experiment tracker: the interface between trackers and runtimes.

What a cluster's jobs get is known from the blueprint before anything is built: `planned()`
gives each TrainingCluster its `TrackingWiring`s (a cluster may use MLflow and W&B), and
`runtime_env()` their EnvVars, which the Kubeflow Trainer runtimes of the cluster carry in their
node container (the builders pass them in `TrainingClusterArgs.tracking_env`). Once clusters and
servers exist, `mlplatform.components.tracking` creates what the variables refer to (the
credentials' Secrets in the jobs' namespace, the job role's IAM) from the same wirings, publishes
them in `ctx.shared["tracking_wiring"][cluster_name]` and exports `<cluster>_tracking_env`.
Values that are secret are only ever referenced (`valueFrom.secretKeyRef` to a Secret in the
job's namespace), never inlined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from mlplatform import naming
from mlplatform.components.k8s.synced_secret import REQUIRES as ESO_REQUIRED
from mlplatform.errors import MlplatformError
from mlplatform.spec.experiment_tracker import ExperimentTracker as TrackerSpec
from mlplatform.spec.platform import Platform
from mlplatform.spec.tracker_rules import consumers

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


def mlflow_auth_secret(tracker: str) -> str:
    """The Secret, in each consuming training namespace, with the MLflow login of its jobs."""
    return f"{tracker}-mlflow-auth"


def wandb_key_secret(tracker: str) -> str:
    """The Secret, in each consuming training namespace, the W&B key is synced to from Secrets Manager."""
    return f"{tracker}-wandb"


def mlflow_service_uri(names: naming.Names, namespace: str, tracker: str) -> str:
    """The in-cluster URI of a self-hosted MLflow: its Service, named after the Helm release."""
    return f"http://{names.tracking_server(tracker)}.{namespace}.svc.cluster.local"


def managed_mlflow(spec: TrackerSpec, cluster: str, tracking_uri: pulumi.Input[str]) -> TrackingWiring:
    """SageMaker MLflow: the `sagemaker-mlflow` client plugin takes the tracking server's ARN as the
    tracking URI and signs requests with the job's IAM role (the grant comes with the server)."""
    return TrackingWiring(spec.name, "mlflow", cluster, {"MLFLOW_TRACKING_URI": tracking_uri})


def self_hosted_mlflow(spec: TrackerSpec, cluster: str, tracking_uri: str) -> TrackingWiring:
    """MLflow's basic auth: the client sends MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD."""
    secrets: dict[str, SecretKeyRef] = {}
    if "authentication" not in spec.opt_out:
        secret = mlflow_auth_secret(spec.name)
        secrets = {
            "MLFLOW_TRACKING_USERNAME": SecretKeyRef(secret, "username"),
            "MLFLOW_TRACKING_PASSWORD": SecretKeyRef(secret, "password"),
        }
    return TrackingWiring(spec.name, "mlflow", cluster, {"MLFLOW_TRACKING_URI": tracking_uri}, secrets)


def wandb(spec: TrackerSpec, cluster: str) -> TrackingWiring:
    """W&B's settings, and its API key from the team's Secret or the one synced from Secrets Manager."""
    key = spec.api_key
    assert key is not None  # validation requires it for backend="wandb"
    env: dict[str, pulumi.Input[str]] = {"WANDB_BASE_URL": spec.base_url}
    if spec.entity:
        env["WANDB_ENTITY"] = spec.entity
    if spec.project:
        env["WANDB_PROJECT"] = spec.project
    if key.aws_secret is not None:
        ref, requires = SecretKeyRef(wandb_key_secret(spec.name), key.key), [ESO_REQUIRED]
    else:
        assert key.kubernetes_secret is not None
        ref, requires = SecretKeyRef(key.kubernetes_secret, key.key), []
    return TrackingWiring(spec.name, "wandb", cluster, env, {"WANDB_API_KEY": ref}, requires=requires)


def planned(
    platform: Platform, names: naming.Names, cluster: str, managed_uris: Mapping[str, pulumi.Input[str]]
) -> list[TrackingWiring]:
    """The wirings of one TrainingCluster's jobs, in the blueprint's order of trackers.
    `managed_uris`: tracking URIs of the SageMaker MLflow servers built so far, by tracker name."""
    namespace = platform.kubernetes.namespace or names.serving_namespace()
    out: list[TrackingWiring] = []
    for spec in platform.of_kind(TrackerSpec):
        if cluster not in {c.name for c in consumers(platform, spec)}:
            continue
        if spec.backend == "wandb":
            out.append(wandb(spec, cluster))
        elif spec.target == "aws":
            if spec.name not in managed_uris:
                raise MlplatformError(
                    f"ExperimentTracker '{spec.name}': its SageMaker MLflow server must be built before "
                    f"TrainingCluster '{cluster}', whose runtimes name it"
                )
            out.append(managed_mlflow(spec, cluster, managed_uris[spec.name]))
        else:
            out.append(self_hosted_mlflow(spec, cluster, mlflow_service_uri(names, namespace, spec.name)))
    return out


def built_uris(shared: Mapping[str, Any]) -> dict[str, pulumi.Input[str]]:
    """Tracking URIs of the MLflow servers built so far (`ctx.shared["trackers"]`), by tracker name."""
    return {name: server.tracking_uri for name, server in shared.get("trackers", {}).items()}


def runtime_env(
    platform: Platform, names: naming.Names, cluster: str, managed_uris: Mapping[str, pulumi.Input[str]]
) -> list[dict[str, Any]]:
    """The EnvVars a TrainingCluster's runtimes give its jobs' containers (as `<cluster>_tracking_env`)."""
    return [v for w in planned(platform, names, cluster, managed_uris) for v in w.env_vars()]
