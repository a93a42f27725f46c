"""Validation rules for ExperimentTrackers, over a platform resolved for one environment.

Each rule yields (path, message) like the rules in `mlplatform.spec.rules`; `in_cluster_database`
yields warnings (the choice is allowed, and reported wherever the platform is validated).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlplatform import naming
from mlplatform.spec.experiment_tracker import ExperimentTracker
from mlplatform.spec.training_cluster import TrainingCluster

if TYPE_CHECKING:
    from mlplatform.spec.platform import Platform
    from mlplatform.spec.rules import Context

Finding = tuple[tuple[Any, ...], str]

_ACCOUNT = naming.ACCOUNT_ID_PLACEHOLDER

# Fields that mean something for one backend or target only; setting one elsewhere is an error
# rather than silently ignored.
_WANDB_FIELDS = ("base_url", "entity", "project", "api_key")
_MLFLOW_AWS_FIELDS = ("size", "mlflow_version", "maintenance_window", "automatic_model_registration", "user_roles")
_MLFLOW_K8S_FIELDS = (
    "database",
    "database_instance_class",
    "database_storage_gb",
    "database_multi_az",
    "replicas",
    "cpu",
    "memory",
)


def trackers(p: Platform) -> list[tuple[int, ExperimentTracker]]:
    return [(i, c) for i, c in enumerate(p.components) if isinstance(c, ExperimentTracker)]


def consumers(p: Platform, tracker: ExperimentTracker) -> list[TrainingCluster]:
    """The TrainingClusters whose jobs use `tracker` (all of them when it names none)."""
    clusters = p.of_kind(TrainingCluster)
    if not tracker.training_clusters:
        return clusters
    return [c for c in clusters if c.name in tracker.training_clusters]


def _at(i: int, *field: Any) -> tuple[Any, ...]:
    return ("components", i, *field)


def tracker_fields(p: Platform, ctx: Context) -> Iterator[Finding]:
    for i, t in trackers(p):
        given = t.model_fields_set
        if t.backend == "mlflow":
            wrong = [f for f in _WANDB_FIELDS if f in given]
            wrong += [f for f in (_MLFLOW_K8S_FIELDS if t.target == "aws" else _MLFLOW_AWS_FIELDS) if f in given]
            for f in wrong:
                where = (
                    "backend='wandb'"
                    if f in _WANDB_FIELDS
                    else (
                        "target='kubernetes' (self-hosted MLflow)"
                        if f in _MLFLOW_K8S_FIELDS
                        else "target='aws' (SageMaker managed MLflow)"
                    )
                )
                yield _at(i, f), f"'{f}' applies to {where} only; remove it"
            continue
        for f in (*_MLFLOW_AWS_FIELDS, *_MLFLOW_K8S_FIELDS, "target"):
            if f in given:
                yield _at(i, f), f"'{f}' applies to backend='mlflow' only; remove it"
        if t.api_key is None:
            yield (
                _at(i, "api_key"),
                "backend='wandb' needs the API key's secret store: api_key=SecretRef(aws_secret='name') or "
                "SecretRef(kubernetes_secret='name')",
            )
        if t.project is None:
            yield _at(i, "project"), "backend='wandb' needs the W&B project runs are logged to; add project=..."


def tracker_references(p: Platform, ctx: Context) -> Iterator[Finding]:
    declared = ctx.declared_names("TrainingCluster")
    clusters = {c.name: c for c in p.of_kind(TrainingCluster)}
    tracked: dict[tuple[str, str], str] = {}
    for i, t in trackers(p):
        for j, name in enumerate(t.training_clusters):
            if name not in clusters and name not in declared:
                known = ", ".join(sorted(declared)) or "none declared"
                yield (
                    _at(i, "training_clusters", j),
                    f"names TrainingCluster '{name}', which does not exist (TrainingClusters: {known})",
                )
        for c in consumers(p, t):
            other = tracked.setdefault((c.name, t.backend), t.name)
            if other != t.name:
                yield (
                    _at(i, "training_clusters"),
                    f"TrainingCluster '{c.name}' already uses {t.backend} tracker '{other}'; a job has one "
                    f"tracking server: name the clusters each tracker serves with training_clusters=[...]",
                )
            if t.backend == "mlflow" and t.target == "aws" and c.target == "kubernetes":
                yield (
                    _at(i, "training_clusters"),
                    f"TrainingCluster '{c.name}' (target='kubernetes') has no IAM role to call SageMaker MLflow with; "
                    "use an eks TrainingCluster or an ExperimentTracker with target='kubernetes'",
                )
            if (
                t.backend == "wandb"
                and t.api_key is not None
                and t.api_key.aws_secret is not None
                and c.target == "kubernetes"
            ):
                yield (
                    _at(i, "api_key"),
                    f"TrainingCluster '{c.name}' (target='kubernetes') has no AWS identity to read Secrets Manager "
                    "with; use SecretRef(kubernetes_secret='name') for its jobs",
                )


def tracker_placement(p: Platform, ctx: Context) -> Iterator[Finding]:
    from mlplatform.spec.environments import is_production

    for i, t in trackers(p):
        if t.backend != "mlflow":
            continue
        if "authentication" in t.opt_out:
            if t.target == "aws":
                yield (
                    _at(i, "opt_out"),
                    "opt-out 'authentication' has no effect on target='aws' (SageMaker MLflow always "
                    "authenticates with IAM); remove it",
                )
            elif is_production(ctx.env):
                yield (
                    _at(i, "opt_out"),
                    f"MLflow without authentication in {ctx.env}: whoever reaches the service can read and change "
                    "runs and models; remove the opt-out",
                )
        if t.target == "kubernetes" and not _has_identity(p):
            yield (
                _at(i, "target"),
                "a self-hosted MLflow keeps artifacts on S3 through workload identity, and the cluster declares "
                "none: set Platform.kubernetes.workload_identity (Irsa(oidc_issuer=...) or "
                "PodIdentity(cluster_name=...)) or Platform.kubernetes.training_cluster",
            )
        if t.target == "kubernetes" and t.database == "rds" and not _reaches_vpc(p):
            yield (
                _at(i, "database"),
                "database='rds' places PostgreSQL in the platform's VPC, and the cluster's VPC is not known: "
                "declare it with Platform(network=Network(vpc_id=..., private_subnet_ids=[...])), run the "
                "cluster as an eks TrainingCluster (Platform.kubernetes.training_cluster), or set "
                "database='in_cluster'",
            )


# The declared cluster capability the synced secrets (mlplatform.components.k8s.synced_secret) need.
_ESO = (
    "the External Secrets Operator (external-secrets.io/v1), which Platform.kubernetes.external_secrets says "
    "the cluster does not run: install it and set external_secrets=True"
)


def tracker_prerequisites(p: Platform, ctx: Context) -> Iterator[Finding]:
    """What the cluster must already run for a tracker, declared in Platform.kubernetes, not assumed."""
    if p.kubernetes.external_secrets:
        return
    for i, t in trackers(p):
        if t.backend == "mlflow" and t.target == "kubernetes" and t.database == "rds":
            yield (
                _at(i, "database"),
                f"database='rds' syncs the RDS-managed password into the cluster with {_ESO}, or use "
                "database='in_cluster'",
            )
        if t.backend == "wandb" and t.api_key is not None and t.api_key.aws_secret is not None and consumers(p, t):
            yield (
                _at(i, "api_key"),
                f"SecretRef(aws_secret=...) is synced into the jobs' namespace by {_ESO}, or use "
                "SecretRef(kubernetes_secret='name')",
            )


def _has_identity(p: Platform) -> bool:
    return p.kubernetes.workload_identity is not None or p.kubernetes.training_cluster is not None


def _reaches_vpc(p: Platform) -> bool:
    return p.network is not None or p.kubernetes.training_cluster is not None


def tracker_names(p: Platform, ctx: Context) -> Iterator[Finding]:
    names = naming.Names(p.name, ctx.env)
    for i, t in trackers(p):
        if t.backend != "mlflow":
            continue
        checks: list[str | None] = []
        if t.target == "aws":
            server = names.tracking_server(t.name)
            checks.append(naming.sagemaker_name_problem(server, "SageMaker MLflow tracking server name"))
            checks.append(naming.s3_bucket_problem(names.tracking_artifacts_bucket(t.name, _ACCOUNT)))
            checks.append(naming.iam_role_problem(names.role(t.name, "mlflow")))
        else:
            checks.append(naming.dns_label_problem(names.tracking_server(t.name)))
            checks.append(naming.s3_bucket_problem(names.tracking_artifacts_bucket(t.name, _ACCOUNT)))
            checks.append(naming.iam_role_problem(names.role(t.name, "mlflow")))
            if t.database == "rds":
                checks.append(naming.rds_identifier_problem(names.tracking_database(t.name)))
        for problem in checks:
            if problem:
                yield _at(i, "name"), f"{problem}; shorten the component or platform name"


def in_cluster_database(p: Platform, env: str) -> Iterator[tuple[tuple[Any, ...], str, bool]]:
    """The explicit choice of an in-cluster database, reported as a warning."""
    for i, t in trackers(p):
        if t.backend == "mlflow" and t.target == "kubernetes" and t.database == "in_cluster":
            yield (
                _at(i, "database"),
                "MLflow's backend store is a single PostgreSQL pod on the cluster (its volume is kept, but no "
                "managed backups, failover or patching); database='rds' for RDS",
                False,
            )


RULES = (tracker_fields, tracker_references, tracker_placement, tracker_prerequisites, tracker_names)
