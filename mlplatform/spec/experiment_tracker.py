"""ExperimentTracker: where training runs record parameters, metrics and models.

`backend="mlflow"` runs an MLflow tracking server: SageMaker managed MLflow (`target="aws"`) or
the MLflow Helm chart on the platform's cluster (`target="kubernetes"`). `backend="wandb"` points
training jobs at Weights & Biases (SaaS or self-hosted) with an API key taken from a secret
store by reference. Training jobs get the connection settings as environment variables and the
permissions to use them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from mlplatform.spec.base import Name, SpecModel

TrackerOptOut = Literal["authentication"]

# SageMaker managed MLflow: sizes and the weekly maintenance window format of the API
# (CreateMlflowTrackingServer: TrackingServerSize, WeeklyMaintenanceWindowStart "TUE:03:30").
TrackingServerSize = Literal["Small", "Medium", "Large"]
MAINTENANCE_WINDOW = r"^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):[0-5]\d$"

_SECRET_NAME = r"^[A-Za-z0-9/_+=.@-]{1,512}$"
_SECRET_ARN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$"
_K8S_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"


class SecretRef(SpecModel):
    """A secret held in a secret store, named by reference: its value never appears in a
    blueprint or a stack file. Exactly one of `aws_secret` and `kubernetes_secret`."""

    aws_secret: str | None = Field(
        None,
        description="AWS Secrets Manager secret (name or ARN) whose value is the secret. Omitted: kubernetes_secret.",
    )
    kubernetes_secret: str | None = Field(
        None,
        pattern=_K8S_NAME,
        description="Kubernetes Secret in each consuming training namespace. Omitted: aws_secret.",
    )
    key: str = Field(
        "api-key",
        pattern=r"^[-._a-zA-Z0-9]+$",
        description="Key of the Kubernetes Secret holding the value. Omitted: api-key.",
    )

    @model_validator(mode="after")
    def _one_store(self) -> SecretRef:
        if (self.aws_secret is None) == (self.kubernetes_secret is None):
            raise ValueError(
                "name exactly one secret store: SecretRef(aws_secret='name-or-arn') or "
                "SecretRef(kubernetes_secret='name', key='api-key')"
            )
        if self.aws_secret is not None and not (
            _matches(_SECRET_ARN, self.aws_secret) or _matches(_SECRET_NAME, self.aws_secret)
        ):
            raise ValueError(
                f"aws_secret '{self.aws_secret}' is neither a Secrets Manager secret name nor a secret ARN"
            )
        return self


def _matches(pattern: str, value: str) -> bool:
    import re

    return re.fullmatch(pattern, value) is not None


class ExperimentTracker(SpecModel):
    kind: Literal["ExperimentTracker"] = "ExperimentTracker"
    name: Name
    backend: Literal["mlflow", "wandb"] = Field(
        "mlflow", description="mlflow: an MLflow tracking server. wandb: Weights & Biases. Omitted: mlflow."
    )
    target: Literal["aws", "kubernetes"] = Field(
        "aws",
        description="mlflow on aws: SageMaker managed MLflow. mlflow on kubernetes: the MLflow Helm chart on the "
        "platform's cluster. wandb: where the consuming training jobs run (the key's secret store). Omitted: aws.",
    )
    training_clusters: list[Name] = Field(
        default_factory=list,
        description="TrainingClusters whose jobs use this tracker (get its settings, credentials and "
        "permissions). Omitted: every TrainingCluster of the platform.",
    )
    # --- MLflow on SageMaker (target="aws") -----------------------------------------------
    size: TrackingServerSize = Field(
        "Small", description="SageMaker managed MLflow tracking server size. Omitted: Small."
    )
    mlflow_version: str | None = Field(
        None,
        pattern=r"^\d+\.\d+(\.\d+)?$",
        description="MLflow version of the managed tracking server. Omitted: SageMaker's current default.",
    )
    maintenance_window: str | None = Field(
        None,
        pattern=MAINTENANCE_WINDOW,
        description="Weekly maintenance start, UTC, e.g. TUE:03:30. Omitted: chosen by SageMaker.",
    )
    automatic_model_registration: bool = Field(
        False,
        description="Register MLflow models in the SageMaker Model Registry automatically. Omitted: off.",
    )
    user_roles: list[str] = Field(
        default_factory=list,
        description="IAM role names of the people who use the tracking server; each gets the users' policy. "
        "Omitted: the policy is created for you to attach.",
    )
    # --- MLflow on Kubernetes (target="kubernetes") ---------------------------------------
    database: Literal["rds", "in_cluster"] = Field(
        "rds",
        description="rds: RDS PostgreSQL (encrypted, private subnets, password managed by AWS in Secrets "
        "Manager). in_cluster: a single PostgreSQL pod on the cluster, reported in every plan. Omitted: rds.",
    )
    database_instance_class: str = Field(
        "db.t4g.small", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$", description="RDS instance class. Omitted: db.t4g.small."
    )
    database_storage_gb: int = Field(20, ge=20, le=65536, description="Database storage. Omitted: 20 GB.")
    database_multi_az: bool = Field(False, description="RDS Multi-AZ standby. Omitted: single zone.")
    replicas: int = Field(1, ge=1, le=10, description="MLflow server replicas. Omitted: 1.")
    cpu: str = Field("1", pattern=r"^\d+(\.\d+)?m?$", description="CPU request and limit per replica. Omitted: 1.")
    memory: str = Field("2Gi", pattern=r"^\d+(Mi|Gi)$", description="Memory per replica. Omitted: 2Gi.")
    # --- Weights & Biases (backend="wandb") -----------------------------------------------
    base_url: str = Field(
        "https://api.wandb.ai",
        pattern=r"^https://\S+$",
        description="W&B server (a self-hosted one, or the SaaS API). Omitted: https://api.wandb.ai.",
    )
    entity: str | None = Field(None, pattern=r"^[\w.-]{1,64}$", description="W&B entity (team or user).")
    project: str | None = Field(None, pattern=r"^[\w.-]{1,128}$", description="W&B project.")
    api_key: SecretRef | None = Field(None, description="Where the W&B API key is stored, by reference.")
    opt_out: list[TrackerOptOut] = Field(
        default_factory=list,
        description="Secure defaults to turn off, by name; each is reported in every plan. Omitted: all on.",
    )

    @field_validator("api_key", mode="before")
    @classmethod
    def _key_by_reference(cls, value: Any) -> Any:
        # The message never repeats the value: it may be the key itself.
        if isinstance(value, str):
            raise ValueError(
                "must name where the key is stored, never the key itself: api_key=SecretRef(aws_secret='name') "
                "or SecretRef(kubernetes_secret='name', key='api-key')"
            )
        return value
