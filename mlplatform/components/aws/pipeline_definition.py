"""The SageMaker Pipeline definition of a TrainingPipeline, built as JSON by hand.

The format is SageMaker's Pipeline Definition JSON (Version 2020-12-01; the published schema is
aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema): `Parameters`,
and `Steps` whose `Arguments` are the request of the API each step calls (CreateTrainingJob,
CreateProcessingJob) without the job name, which SageMaker sets. A step that reads another's
property (`{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}`) runs after it.

Steps, each after the one before (`DependsOn`, or a property it reads):
1. Guard (processing, the mlplatform image): one run at a time. SageMaker Pipelines starts every
   execution it is asked to (ParallelismConfiguration only caps the steps running inside one
   execution), so the guard lists the pipeline's executions and, when an earlier one is still
   Executing, stops its own execution (StopPipelineExecution): the run ends Stopped, not Failed,
   so it raises no failure alert, and no step after the guard starts.
2. Train (training job) -> 3. Evaluate (processing: the metrics file) -> 4. Register (processing,
   the mlplatform image: `mlplatform.promotion.pipeline_steps register`, the code of `mlplatform
   register`, with the metrics and the trigger that started the run).

The definition keeps to what the published schema describes (no property files, no Std:Join),
so it validates against it as well as against what SageMaker accepts.

Plain data in, plain data out: no pulumi here, so the tests check a definition directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlplatform import naming
from mlplatform.spec.training_pipeline import TrainingPipeline

VERSION = "2020-12-01"
GUARD, TRAIN, EVALUATE, REGISTER = "Guard", "Train", "Evaluate", "Register"
STEPS_MODULE = "mlplatform.promotion.pipeline_steps"
# Where processing containers find their inputs and put their outputs (CreateProcessingJob).
MODEL_DIR = "/opt/ml/processing/model"
EVALUATION_DIR = "/opt/ml/processing/evaluation"

EXECUTION_ARN: dict[str, Any] = {"Get": "Execution.PipelineExecutionArn"}
TRIGGER: dict[str, Any] = {"Get": f"Parameters.{naming.PIPELINE_TRIGGER_PARAMETER}"}
MODEL_ARTIFACT: dict[str, Any] = {"Get": f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"}


@dataclass(frozen=True)
class Placement:
    """Everything the definition names that the platform created (plain strings)."""

    names: naming.Names
    registration: naming.Names  # the environment whose registry the Register step writes
    region: str
    account_id: str
    partition: str
    registry_bucket: str
    kms_key_arn: str
    train_role_arn: str
    register_role_arn: str
    promoter_role_arn: str  # the registration environment's promoter role
    training_data: str  # s3:// prefix
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()


def output_uri(p: Placement, spec: TrainingPipeline, what: str) -> str:
    return f"s3://{p.registry_bucket}/{naming.pipeline_output_prefix(spec.name)}{what}"


def _vpc(p: Placement) -> dict[str, Any] | None:
    if not p.subnet_ids:
        return None
    return {"Subnets": list(p.subnet_ids), "SecurityGroupIds": list(p.security_group_ids)}


def _processing(
    p: Placement,
    image: str,
    entrypoint: list[str],
    role_arn: str,
    instance_type: str,
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    arguments: list[Any] | None = None,
    environment: dict[str, str] | None = None,
    isolated: bool = True,
) -> dict[str, Any]:
    """CreateProcessingJob's request (without the name), for one container."""
    app: dict[str, Any] = {"ImageUri": image, "ContainerEntrypoint": entrypoint}
    if arguments:
        app["ContainerArguments"] = arguments
    network: dict[str, Any] = {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": isolated}
    vpc = _vpc(p)
    if vpc:
        network["VpcConfig"] = vpc
    args: dict[str, Any] = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": instance_type,
                "VolumeSizeInGB": 30,
                "VolumeKmsKeyId": p.kms_key_arn,
            }
        },
        "AppSpecification": app,
        "RoleArn": role_arn,
        "NetworkConfig": network,
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "ProcessingOutputConfig": {"Outputs": outputs, "KmsKeyId": p.kms_key_arn},
    }
    if inputs:
        args["ProcessingInputs"] = inputs
    if environment:
        args["Environment"] = environment
    return args


def _s3_input(name: str, uri: Any, local: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def _s3_output(name: str, uri: Any, local: str) -> dict[str, Any]:
    return {
        "OutputName": name,
        "S3Output": {"S3Uri": uri, "LocalPath": local, "S3UploadMode": "EndOfJob"},
    }


def guard_step(p: Placement, spec: TrainingPipeline) -> dict[str, Any]:
    assert spec.register is not None
    return {
        "Name": GUARD,
        "Type": "Processing",
        "Description": "Stop this execution when an earlier one of this pipeline is still running",
        "Arguments": _processing(
            p,
            spec.register.image,
            ["python3", "-m", STEPS_MODULE, "guard"],
            p.register_role_arn,
            "ml.t3.medium",
            [],
            [],
            arguments=["--execution", EXECUTION_ARN],
            environment={"AWS_REGION": p.region, "AWS_DEFAULT_REGION": p.region},
            isolated=False,  # it calls the SageMaker API
        ),
    }


def train_step(p: Placement, spec: TrainingPipeline) -> dict[str, Any]:
    t = spec.train
    args: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingImage": t.image, "TrainingInputMode": "File"},
        "RoleArn": p.train_role_arn,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": p.training_data,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": output_uri(p, spec, "models"), "KmsKeyId": p.kms_key_arn},
        "ResourceConfig": {
            "InstanceCount": t.instance_count,
            "InstanceType": t.instance_type,
            "VolumeSizeInGB": t.volume_gb,
            "VolumeKmsKeyId": p.kms_key_arn,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": t.max_runtime_hours * 3600},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }
    if t.hyperparameters:
        args["HyperParameters"] = dict(sorted(t.hyperparameters.items()))
    vpc = _vpc(p)
    if vpc:
        args["VpcConfig"] = vpc
    return {"Name": TRAIN, "Type": "Training", "DependsOn": [GUARD], "Arguments": args}


def evaluate_step(p: Placement, spec: TrainingPipeline) -> dict[str, Any]:
    assert spec.evaluate is not None
    return {
        "Name": EVALUATE,
        "Type": "Processing",
        "Description": f"Write {spec.evaluate.metrics_file}: the metrics the promotion gates read",
        "Arguments": _processing(
            p,
            spec.evaluation_image,
            list(spec.evaluate.command),
            p.train_role_arn,
            spec.evaluate.instance_type,
            [_s3_input("model", MODEL_ARTIFACT, MODEL_DIR)],
            # One run at a time (the guard): each run's evaluation replaces the last one's.
            [_s3_output("evaluation", output_uri(p, spec, "evaluation"), EVALUATION_DIR)],
        ),
    }


def register_step(p: Placement, spec: TrainingPipeline) -> dict[str, Any]:
    assert spec.register is not None and spec.evaluate is not None
    evaluation = {"Get": f"Steps.{EVALUATE}.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}
    r = p.registration
    return {
        "Name": REGISTER,
        "Type": "Processing",
        "Description": f"Register the model as a new {spec.model} version in {r.env}, as `mlplatform register` does",
        "Arguments": _processing(
            p,
            spec.register.image,
            ["python3", "-m", STEPS_MODULE, "register"],
            p.register_role_arn,
            "ml.t3.medium",
            [_s3_input("evaluation", evaluation, EVALUATION_DIR)],
            [],
            arguments=[
                "--model",
                spec.model,
                "--artifact",
                MODEL_ARTIFACT,
                "--metrics",
                f"{EVALUATION_DIR}/{spec.evaluate.metrics_file}",
                "--image",
                spec.serving_image,
                "--trigger",
                TRIGGER,
                "--execution",
                EXECUTION_ARN,
            ],
            environment={
                "AWS_REGION": p.region,
                "AWS_DEFAULT_REGION": p.region,
                "MLPLATFORM_PLATFORM": r.platform,
                "MLPLATFORM_ENVIRONMENT": r.env,
                "MLPLATFORM_RAN_IN": p.names.env,
                "MLPLATFORM_PIPELINE": spec.name,
                "MLPLATFORM_PROMOTER_ROLE_ARN": p.promoter_role_arn,
            },
            isolated=False,  # it calls S3, STS, SSM, DynamoDB and SageMaker
        ),
    }


def definition(p: Placement, spec: TrainingPipeline) -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Metadata": {},
        "Parameters": [{"Name": naming.PIPELINE_TRIGGER_PARAMETER, "Type": "String", "DefaultValue": "manual"}],
        "Steps": [guard_step(p, spec), train_step(p, spec), evaluate_step(p, spec), register_step(p, spec)],
    }
