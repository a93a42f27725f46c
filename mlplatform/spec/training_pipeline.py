"""TrainingPipeline: train, evaluate and register a model on a schedule and when monitoring says
it degraded.

Each run registers a new version in the registry of the first environment in promotion order
(where `mlplatform register` puts versions), with its metrics, exactly as `mlplatform register`
would; `mlplatform promote` and its gates take it from there, so nothing reaches production
without promotion. On `target="sagemaker"` the steps are a SageMaker Pipeline started by an
EventBridge Scheduler schedule and by EventBridge rules for the triggers; on
`target="kubernetes"` a CronJob creates a TrainJob on the TrainingCluster's runtime (schedule
only: alert-driven triggers are AWS-only for now).
"""

from __future__ import annotations

import re
import warnings
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from mlplatform.spec import schedules
from mlplatform.spec.base import Name, SpecModel

# An image reference pinned by digest: a tag can be moved to other bytes after a run was reviewed.
PINNED_IMAGE = r"^[^\s@]+@sha256:[0-9a-f]{64}$"
_S3_PREFIX = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$"


def _pinned(value: str) -> str:
    if not re.fullmatch(PINNED_IMAGE, value):
        repo = value.split("@", 1)[0].rsplit(":", 1)[0] if "/" in value else value
        raise ValueError(f"'{value}' is not pinned by digest; write {repo}@sha256:<digest>")
    return value


def _s3_prefix(value: str) -> str:
    if not re.fullmatch(_S3_PREFIX, value):
        raise ValueError(f"'{value}' is not an S3 location; write s3://bucket/prefix/")
    return value


Image = Annotated[str, AfterValidator(_pinned), Field(description="An image pinned by digest (repo@sha256:...).")]
S3Prefix = Annotated[str, AfterValidator(_s3_prefix), Field(description="s3://bucket/prefix/")]
_SAGEMAKER_TYPE = r"^ml\.[a-z0-9-]+\.[a-z0-9]+$"


class TrainStep(SpecModel):
    """Train the model: a SageMaker training job, or a TrainJob on a TrainingCluster runtime."""

    image: Image = Field(description="Training image, pinned by digest (repo@sha256:...).")
    instance_type: str = Field(
        "ml.m5.xlarge", pattern=_SAGEMAKER_TYPE, description="SageMaker training instance type. Omitted: ml.m5.xlarge."
    )
    instance_count: int = Field(1, ge=1, le=64, description="Training instances (nodes). Omitted: 1.")
    volume_gb: int = Field(50, ge=1, le=16384, description="Storage per training instance. Omitted: 50 GB.")
    max_runtime_hours: int = Field(24, ge=1, le=672, description="Stop training after this long. Omitted: 24.")
    feature_store: Name | None = Field(
        None,
        description="Read the training data from this FeatureStore's offline store (under data_prefix). "
        "Omitted: data names the S3 location.",
    )
    data_prefix: str = Field(
        "", pattern=r"^([^\s/][^\s]*/)?$", description="Prefix in the FeatureStore's offline store. Omitted: all of it."
    )
    data: S3Prefix | None = Field(None, description="s3://bucket/prefix/ of the training data. Omitted: feature_store.")
    hyperparameters: dict[str, str] = Field(default_factory=dict, description="Passed to the training job.")
    runtime: str | None = Field(
        None,
        description="target=kubernetes: the TrainingCluster runtime (torch-distributed or torch-single-node). "
        "Omitted: torch-single-node.",
    )
    command: list[str] = Field(
        default_factory=list, description="target=kubernetes: the command each node runs. Omitted: the image's."
    )


class EvaluateStep(SpecModel):
    """Evaluate the trained model: a processing job that reads it and writes a metrics file."""

    command: list[str] = Field(
        min_length=1,
        description="Command of the evaluation container: it reads the model from /opt/ml/processing/model and "
        "writes the metrics file to /opt/ml/processing/evaluation/.",
    )
    image: Image | None = Field(None, description="Evaluation image. Omitted: the train image.")
    metrics_file: str = Field(
        "metrics.json",
        pattern=r"^[A-Za-z0-9._-]+\.json$",
        description="JSON object of numbers, as `mlplatform register --metrics` reads. Omitted: metrics.json.",
    )
    instance_type: str = Field(
        "ml.m5.large", pattern=_SAGEMAKER_TYPE, description="Processing instance type. Omitted: ml.m5.large."
    )


class RegisterStep(SpecModel):
    """Register the trained model as a new version, with the evaluation's metrics."""

    image: Image = Field(
        description="An image with mlplatform installed, pinned by digest: the step runs the same registration "
        "code as `mlplatform register` (and the pipeline's one-run-at-a-time guard).",
    )
    serving_image: Image | None = Field(
        None,
        description="Serving image recorded with the version. Omitted: the train image.",
    )


class Triggers(SpecModel):
    """What starts a run besides the schedule (AWS only)."""

    drift: bool = Field(
        False,
        description="Start when Model Monitor finds violations of the baseline on an endpoint serving the model "
        "(a MonitoringStack with model_monitor=True watches it). Omitted: off.",
    )
    alarms: list[str] = Field(
        default_factory=list,
        description="CloudWatch alarm names: start when one goes into ALARM. Omitted: none.",
    )
    new_data: S3Prefix | None = Field(
        None,
        description="s3://bucket/prefix/: start when an object is created under it (the bucket must send events "
        "to EventBridge). Omitted: none.",
    )

    @field_validator("alarms")
    @classmethod
    def _alarm_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not 1 <= len(name) <= 255 or name != name.strip():
                raise ValueError(f"'{name}' is not a CloudWatch alarm name (1-255 characters, no outer spaces)")
        return value


# The step is called `register` like the command it runs; pydantic warns that the field shadows
# ABCMeta.register, which only the class (never an instance) has, so the field reads as expected.
warnings.filterwarnings("ignore", message='Field name "register" in "TrainingPipeline"', category=UserWarning)


class TrainingPipeline(SpecModel):
    kind: Literal["TrainingPipeline"] = "TrainingPipeline"
    name: Name
    model: Name = Field(description="The model it trains: a model a ModelEndpoint of this platform serves.")
    target: Literal["sagemaker", "kubernetes"] = Field(
        "sagemaker",
        description="sagemaker: a SageMaker Pipeline (train, evaluate, register). kubernetes: a CronJob that "
        "creates a TrainJob on training_cluster's runtime. Omitted: sagemaker.",
    )
    training_cluster: Name | None = Field(
        None, description="target=kubernetes: the TrainingCluster whose runtime trains. Omitted: none."
    )
    schedule: str | None = Field(
        None,
        description=f"When to run, as EventBridge Scheduler writes it (UTC): {schedules.EXAMPLES}. Omitted: only "
        "the triggers start it.",
    )
    triggers: Triggers = Field(default_factory=Triggers, description="What else starts a run. Omitted: none.")
    train: TrainStep = Field(description="The training step.")
    launcher_image: Image | None = Field(
        None,
        description="target=kubernetes: an image with mlplatform installed, pinned by digest, that the CronJob "
        "runs to start each run's TrainJob. Omitted: an error on target=kubernetes.",
    )
    evaluate: EvaluateStep | None = Field(None, description="target=sagemaker: the evaluation step (required).")
    register: RegisterStep | None = Field(None, description="target=sagemaker: the registration step (required).")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            found = schedules.problem(value)
            if found:
                raise ValueError(found)
        return value

    @property
    def opt_out(self) -> list[str]:
        """A pipeline turns off no secure default (the rules over components ask every one)."""
        return []

    @property
    def serving_image(self) -> str:
        return (self.register.serving_image if self.register else None) or self.train.image

    @property
    def evaluation_image(self) -> str:
        return (self.evaluate.image if self.evaluate else None) or self.train.image

    def trigger_names(self) -> list[str]:
        """The triggers that start it, as the pipeline's Trigger parameter names them."""
        found = ["schedule"] if self.schedule else []
        found += ["drift"] if self.triggers.drift else []
        found += ["alarm"] if self.triggers.alarms else []
        found += ["new-data"] if self.triggers.new_data else []
        return found
