"""ModelEndpoint: a model served on SageMaker or Kubernetes, with a safe rollout strategy."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mlplatform.spec.base import Name, SpecModel

ModelEndpointOptOut = Literal["kms_encryption", "network_isolation", "vpc"]


class AllAtOnce(SpecModel):
    """Shift all traffic at once to the new fleet, then bake; roll back on alarm while baking."""

    strategy: Literal["all_at_once"] = "all_at_once"
    bake_minutes: int = Field(10, ge=0, le=60, description="Minutes watched after shifting. Omitted: 10.")


class Canary(SpecModel):
    """Shift `percent` of traffic first, bake, then the rest; roll back on alarm."""

    strategy: Literal["canary"] = "canary"
    percent: int = Field(10, ge=1, le=50, description="Traffic in the canary step. Omitted: 10%.")
    bake_minutes: int = Field(10, ge=1, le=60, description="Minutes the canary is watched. Omitted: 10.")


class Linear(SpecModel):
    """Shift traffic in equal steps of `step_percent`, baking after each; roll back on alarm."""

    strategy: Literal["linear"] = "linear"
    step_percent: int = Field(
        20,
        ge=10,
        le=50,
        description="Traffic per step, 10-50% of the instances (SageMaker's LinearStepSize). Omitted: 20%.",
    )
    interval_minutes: int = Field(5, ge=1, le=60, description="Minutes between steps. Omitted: 5.")
    bake_minutes: int = Field(10, ge=0, le=60, description="Minutes watched at the end. Omitted: 10.")


Deployment = Annotated[AllAtOnce | Canary | Linear, Field(discriminator="strategy")]


class Serverless(SpecModel):
    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = Field(
        2048, description="Memory per invocation. Omitted: 2048 MB."
    )
    max_concurrency: int = Field(20, ge=1, le=200, description="Concurrent invocations. Omitted: 20.")


class MetricGates(SpecModel):
    """Thresholds a model version's registered metrics must meet to be promoted here."""

    minimum: dict[str, float] = Field(
        default_factory=dict, description="Metric -> lowest allowed value (e.g. auc). Omitted: none."
    )
    maximum: dict[str, float] = Field(
        default_factory=dict, description="Metric -> highest allowed value (e.g. logloss). Omitted: none."
    )


class ServingMetrics(SpecModel):
    """The Prometheus metrics a Kubernetes serving container exports: the contract the alert
    rules and dashboard rely on. The defaults are what MLServer (an Open Inference Protocol
    server) exports on its metrics port: the REST request-duration histogram, labelled with the
    HTTP status code. Requests are counted from the histogram's `_count` series."""

    histogram: str = Field(
        "rest_server_request_duration_seconds",
        pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$",
        description="Request-duration histogram in seconds, without the _bucket suffix. "
        "Omitted: rest_server_request_duration_seconds (MLServer).",
    )
    status_label: str = Field(
        "status_code",
        pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$",
        description="Label holding the HTTP status code. Omitted: status_code (MLServer).",
    )
    port: int = Field(8082, ge=1, le=65535, description="Port serving the metrics. Omitted: 8082 (MLServer).")
    path: str = Field("/metrics", pattern=r"^/\S*$", description="Path of the metrics. Omitted: /metrics.")


class ModelEndpoint(SpecModel):
    kind: Literal["ModelEndpoint"] = "ModelEndpoint"
    name: Name
    model: Name = Field(description="Registered model served here (see `mlplatform register`).")
    target: Literal["sagemaker", "kubernetes"] = Field(
        "sagemaker", description="Where it is served. Omitted: sagemaker."
    )
    instance_type: str = Field("ml.m5.large", description="SageMaker instance type (ml.*). Omitted: ml.m5.large.")
    serverless: Serverless | None = Field(
        None, description="Serve on SageMaker Serverless Inference instead of instances. Omitted: instances."
    )
    min_instances: int = Field(1, ge=1, description="Fewest instances (replicas). Omitted: 1.")
    max_instances: int = Field(1, ge=1, description="Most instances (replicas). Omitted: 1, no autoscaling.")
    target_invocations_per_instance: int = Field(
        1000, ge=1, description="Autoscaling target, invocations per instance per minute. Omitted: 1000."
    )
    data_capture_percent: int = Field(
        0, ge=0, le=100, description="Requests captured for monitoring. Omitted: 0, capture off."
    )
    deployment: Deployment = Field(
        default_factory=AllAtOnce, description="Rollout strategy. Omitted: AllAtOnce with a 10 minute bake."
    )
    gates: MetricGates = Field(
        default_factory=MetricGates, description="Promotion thresholds. Omitted: no metric gates."
    )
    # Kubernetes serving
    image: str | None = Field(
        None,
        description="Serving image for target=kubernetes, pinned by tag or digest. Omitted: the image "
        "recorded with the promoted model version.",
    )
    kserve: bool = Field(False, description="Serve as a KServe InferenceService. Omitted: Deployment.")
    port: int = Field(8080, ge=1, le=65535, description="Container port. Omitted: 8080.")
    cpu: str = Field("1", pattern=r"^\d+(\.\d+)?m?$", description="CPU request and limit. Omitted: 1.")
    memory: str = Field("2Gi", pattern=r"^\d+(Mi|Gi)$", description="Memory request and limit. Omitted: 2Gi.")
    gpus: int = Field(0, ge=0, le=8, description="GPUs per replica. Omitted: 0.")
    metrics: ServingMetrics = Field(
        default_factory=ServingMetrics,
        description="Metrics the serving container exports (target=kubernetes). Omitted: MLServer's.",
    )
    allowed_callers: list[str] = Field(
        default_factory=list,
        description="Namespaces allowed to call the endpoint (NetworkPolicy). Omitted: only its own.",
    )
    opt_out: list[ModelEndpointOptOut] = Field(
        default_factory=list,
        description="Secure defaults to turn off, by name; each is reported in every plan. Omitted: all on.",
    )
