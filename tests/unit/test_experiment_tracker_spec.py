"""Validation of ExperimentTracker: one test per message."""

from __future__ import annotations

from typing import Any

from mlplatform.spec.validate import validate_raw


def _texts(*components: dict[str, Any], env: str = "dev", **platform: Any) -> list[str]:
    return [
        p.message
        for p in validate_raw(
            {"name": "fraud", "team": "t", "components": list(components), **platform}, "bp.py", envs=[env]
        ).problems
    ]


TRAIN = {"kind": "TrainingCluster", "name": "train", "target": "kubernetes"}
IRSA = {"workload_identity": {"kind": "irsa", "oidc_issuer": "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"}}


def _tracker(**fields: Any) -> dict[str, Any]:
    return {"kind": "ExperimentTracker", "name": "tracking", **fields}


def test_an_api_key_given_as_a_literal_is_refused_without_repeating_it() -> None:
    texts = _texts(_tracker(backend="wandb", project="p", api_key="0123456789abcdef0123456789abcdef01234567"))
    assert texts == [
        "must name where the key is stored, never the key itself: api_key=SecretRef(aws_secret='name') or "
        "SecretRef(kubernetes_secret='name', key='api-key')"
    ]


def test_a_secret_ref_names_exactly_one_store() -> None:
    texts = _texts(_tracker(backend="wandb", project="p", api_key={"aws_secret": "a", "kubernetes_secret": "b"}))
    assert texts == [
        "name exactly one secret store: SecretRef(aws_secret='name-or-arn') or "
        "SecretRef(kubernetes_secret='name', key='api-key')"
    ]


def test_wandb_needs_a_key_and_a_project() -> None:
    assert _texts(_tracker(backend="wandb")) == [
        "backend='wandb' needs the API key's secret store: api_key=SecretRef(aws_secret='name') or "
        "SecretRef(kubernetes_secret='name')",
        "backend='wandb' needs the W&B project runs are logged to; add project=...",
    ]


def test_fields_of_another_backend_or_target_are_errors_not_ignored() -> None:
    assert _texts(_tracker(target="aws", replicas=2, entity="x")) == [
        "'entity' applies to backend='wandb' only; remove it",
        "'replicas' applies to target='kubernetes' (self-hosted MLflow) only; remove it",
    ]
    assert _texts(TRAIN, _tracker(target="kubernetes", database="in_cluster", size="Large"), kubernetes=IRSA)[0] == (
        "'size' applies to target='aws' (SageMaker managed MLflow) only; remove it"
    )


def test_maintenance_window_format() -> None:
    assert _texts(_tracker(maintenance_window="Tuesday 3am")) == [
        "must be a weekday and UTC time such as TUE:03:30; got 'Tuesday 3am'"
    ]


def test_self_hosted_mlflow_needs_workload_identity() -> None:
    assert _texts(TRAIN, _tracker(target="kubernetes", database="in_cluster"))[:1] == [
        "a self-hosted MLflow keeps artifacts on S3 through workload identity, and the cluster declares none: set "
        "Platform.kubernetes.workload_identity (Irsa(oidc_issuer=...) or PodIdentity(cluster_name=...)) or "
        "Platform.kubernetes.training_cluster"
    ]


def test_rds_needs_the_clusters_vpc() -> None:
    assert _texts(TRAIN, _tracker(target="kubernetes"), kubernetes={**IRSA, "external_secrets": True}) == [
        "database='rds' places PostgreSQL in the platform's VPC, and the cluster's VPC is not known: declare it "
        "with Platform(network=Network(vpc_id=..., private_subnet_ids=[...])), run the cluster as an eks "
        "TrainingCluster (Platform.kubernetes.training_cluster), or set database='in_cluster'"
    ]


def test_in_cluster_database_is_reported_as_a_warning() -> None:
    problems = validate_raw(
        {
            "name": "fraud",
            "team": "t",
            "components": [TRAIN, _tracker(target="kubernetes", database="in_cluster")],
            "kubernetes": IRSA,
        },
        "bp.py",
        envs=["dev"],
    ).problems
    assert [(p.severity, p.field) for p in problems] == [("warning", "database")]
    assert "single PostgreSQL pod" in problems[0].message


def test_authentication_cannot_be_turned_off_in_prod() -> None:
    tracker = _tracker(target="kubernetes", database="in_cluster", opt_out=["authentication"])
    assert (
        "MLflow without authentication in prod: whoever reaches the service can read and change runs and "
        "models; remove the opt-out"
    ) in _texts(TRAIN, tracker, env="prod", kubernetes=IRSA)
    assert "opt-out 'authentication' has no effect on target='aws'" in " ".join(
        _texts(_tracker(opt_out=["authentication"]))
    )


def test_training_clusters_must_exist_and_use_one_tracker_per_backend() -> None:
    assert _texts(TRAIN, _tracker(training_clusters=["gpu"]))[0] == (
        "names TrainingCluster 'gpu', which does not exist (TrainingClusters: train)"
    )
    eks = {"kind": "TrainingCluster", "name": "train"}
    texts = _texts(eks, _tracker(), {**_tracker(), "name": "other"})
    assert (
        "TrainingCluster 'train' already uses mlflow tracker 'tracking'; a job has one tracking server: name the "
        "clusters each tracker serves with training_clusters=[...]"
    ) in texts


def test_a_secrets_manager_key_needs_jobs_with_an_aws_identity() -> None:
    wandb = _tracker(backend="wandb", project="p", api_key={"aws_secret": "team/wandb"})
    texts = _texts(TRAIN, wandb, kubernetes={"external_secrets": True})
    assert texts == [
        "TrainingCluster 'train' (target='kubernetes') has no AWS identity to read Secrets Manager with; use "
        "SecretRef(kubernetes_secret='name') for its jobs"
    ]


def test_managed_mlflow_needs_jobs_with_an_aws_identity() -> None:
    assert _texts(TRAIN, _tracker()) == [
        "TrainingCluster 'train' (target='kubernetes') has no IAM role to call SageMaker MLflow with; use an eks "
        "TrainingCluster or an ExperimentTracker with target='kubernetes'"
    ]


# External Secrets Operator, "AWS Secrets Manager" provider (external-secrets.io): the operator's
# controller writes the Secret; without it an ExternalSecret is an object nothing acts on.
def test_secrets_synced_from_secrets_manager_need_the_operator_declared() -> None:
    # An EKS cluster the platform creates, reached by the deploy runner over a limited public endpoint.
    access = {"api_access": {"public_cidrs": ["52.94.76.0/24"]}, "opt_out": ["private_endpoint"]}
    eks = {"kind": "TrainingCluster", "name": "train", **access}
    wandb = _tracker(backend="wandb", project="p", api_key={"aws_secret": "team/wandb"})
    opted = "secure default 'private_endpoint' is turned off"
    assert _texts(eks, wandb) == [
        "SecretRef(aws_secret=...) is synced into the jobs' namespace by the External Secrets Operator "
        "(external-secrets.io/v1), which Platform.kubernetes.external_secrets says the cluster does not run: "
        "install it and set external_secrets=True, or use SecretRef(kubernetes_secret='name')",
        opted,
    ]
    network = {
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "private_subnet_ids": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
    }
    assert _texts(TRAIN, _tracker(target="kubernetes"), kubernetes=IRSA, network=network) == [
        "database='rds' syncs the RDS-managed password into the cluster with the External Secrets Operator "
        "(external-secrets.io/v1), which Platform.kubernetes.external_secrets says the cluster does not run: "
        "install it and set external_secrets=True, or use database='in_cluster'"
    ]
    declared = {**IRSA, "external_secrets": True}
    assert _texts(TRAIN, _tracker(target="kubernetes"), kubernetes=declared, network=network) == []
    assert _texts(eks, wandb, kubernetes={"external_secrets": True}) == [opted]
    # A key in a Kubernetes Secret needs no operator.
    assert _texts(eks, _tracker(backend="wandb", project="p", api_key={"kubernetes_secret": "wandb"})) == [opted]
