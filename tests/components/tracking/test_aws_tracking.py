"""ExperimentTracker on AWS (SageMaker managed MLflow) and W&B from Secrets Manager, in the
fraud example's program under the SDK mocks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlplatform.plan.engine import Captured
from tests.components.conftest import Resources, run_stack

SERVER = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@pytest.fixture(scope="module")
def stacks() -> dict[str, Captured]:
    return {stack: run_stack(stack) for stack in ("dev", "prod")}


def _doc(r: Resources, name: str, key: str = "policy") -> dict[str, Any]:
    return r.policy(r.named(name), key)


def _statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    found = [s for s in doc["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, doc
    return found[0]


def test_the_aws_example_provisions_managed_mlflow_sized_per_environment(stacks: dict[str, Captured]) -> None:
    dev, prod = Resources(stacks["dev"]), Resources(stacks["prod"])
    server = prod.one(SERVER)
    assert server.inputs["trackingServerName"] == "fraud-prod-tracking"
    # CreateMlflowTrackingServer: TrackingServerSize Small|Medium|Large, WeeklyMaintenanceWindowStart DDD:HH:MM.
    assert (server.inputs["trackingServerSize"], server.inputs["weeklyMaintenanceWindowStart"]) == (
        "Medium",
        "SUN:03:00",
    )
    assert server.inputs["automaticModelRegistration"] is True
    assert (dev.one(SERVER).inputs["trackingServerSize"], dev.one(SERVER).inputs["automaticModelRegistration"]) == (
        "Small",
        False,
    )
    assert server.inputs["artifactStoreUri"] == "s3://fraud-prod-tracking-artifacts-123456789012/mlflow/"
    assert server.inputs["roleArn"] == "arn:aws:iam::123456789012:role/fraud-prod-tracking-mlflow"
    # SageMaker assumes the role and checks the bucket at create time: the server waits for both.
    deps = {prod.by_urn[u].name for u in server.dependencies}
    assert {"tracking-server-policy", "tracking-artifacts-policy"} <= deps


def test_artifact_bucket_has_the_platform_secure_defaults(stacks: dict[str, Captured]) -> None:
    r = Resources(stacks["prod"])
    sse = r.named("tracking-artifacts-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse["sseAlgorithm"] == "aws:kms" and sse["kmsMasterKeyId"]
    assert r.named("tracking-artifacts-versioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    block = r.named("tracking-artifacts-public-access").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    deny = _statement(_doc(r, "tracking-artifacts-policy"), "DenyInsecureTransport")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert r.named("tracking-artifacts-logging").inputs["targetPrefix"] == "fraud-prod-tracking-artifacts-123456789012/"


def test_server_role_is_assumed_by_sagemaker_for_this_account_only(stacks: dict[str, Captured]) -> None:
    r = Resources(stacks["prod"])
    trust = _doc(r, "tracking-server-role", "assumeRolePolicy")["Statement"][0]
    # "Set up IAM permissions for MLflow": the tracking server's service role trusts sagemaker.amazonaws.com.
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_server_role_reads_and_writes_its_bucket_and_registers_models_when_asked(stacks: dict[str, Captured]) -> None:
    prod, dev = Resources(stacks["prod"]), Resources(stacks["dev"])
    doc = _doc(prod, "tracking-server-policy")
    objects = _statement(doc, "ArtifactObjects")
    assert objects["Resource"] == "arn:aws:s3:::fraud-prod-tracking-artifacts-123456789012/mlflow/*"
    assert "s3:PutObject" in objects["Action"] and "s3:GetObject" in objects["Action"]
    assert _statement(doc, "ArtifactBucket")["Resource"] == "arn:aws:s3:::fraud-prod-tracking-artifacts-123456789012"
    # "Set up IAM permissions for MLflow" (automatic model registration): the server's role creates model
    # package groups and packages in the SageMaker Model Registry and tags them.
    registration = _statement(doc, "AutomaticModelRegistration")
    assert registration["Action"] == [
        "sagemaker:AddTags",
        "sagemaker:CreateModelPackage",
        "sagemaker:CreateModelPackageGroup",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:UpdateModelPackage",
    ]
    assert registration["Resource"] == [
        "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/*",
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/*",
    ]
    assert "AutomaticModelRegistration" not in {s.get("Sid") for s in _doc(dev, "tracking-server-policy")["Statement"]}


def test_users_and_training_jobs_get_mlflow_on_this_server_only(stacks: dict[str, Captured]) -> None:
    r = Resources(stacks["prod"])
    server_arn = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/fraud-prod-tracking"
    for name in ("tracking-users", "tracking-use-train"):
        doc = _doc(r, name)
        # Service Authorization Reference, SageMaker with MLflow: actions scope to the mlflow-tracking-server ARN.
        api = _statement(doc, "MlflowApiOnThisServer")
        assert api["Action"] == ["sagemaker-mlflow:*"]
        assert api["Resource"] == server_arn
        ui = _statement(doc, "TrackingServerUi")
        assert "sagemaker:CreatePresignedMlflowTrackingServerUrl" in ui["Action"]
        assert ui["Resource"] == api["Resource"]
        assert all(s["Resource"] != "*" for s in doc["Statement"])
    assert r.named("tracking-use-train").inputs["role"] == "fraud-prod-train-jobs"  # the training jobs' IRSA role


def test_tracking_uri_is_published_in_ssm_and_wired_to_the_training_jobs(stacks: dict[str, Captured]) -> None:
    r = Resources(stacks["prod"])
    param = r.named("tracking-ssm-tracking-uri")
    assert param.inputs["name"] == "/mlplatform/fraud/prod/trackers/tracking/tracking-uri"
    assert param.inputs["type"] == "String"
    env = stacks["prod"].outputs["train_tracking_env"]
    names = [e["name"] for e in env]
    assert names == ["MLFLOW_TRACKING_URI", "WANDB_BASE_URL", "WANDB_ENTITY", "WANDB_PROJECT", "WANDB_API_KEY"]
    uri = next(e for e in env if e["name"] == "MLFLOW_TRACKING_URI")["value"]
    assert uri == param.inputs["insecureValue"]


def test_wandb_key_comes_from_secrets_manager_by_reference_readable_by_the_jobs_only(
    stacks: dict[str, Captured],
) -> None:
    r = Resources(stacks["prod"])
    env = {e["name"]: e for e in stacks["prod"].outputs["train_tracking_env"]}
    assert env["WANDB_API_KEY"] == {
        "name": "WANDB_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "wandb-wandb", "key": "api-key"}},
    }
    assert (env["WANDB_ENTITY"]["value"], env["WANDB_PROJECT"]["value"]) == ("risk-ml", "fraud")
    # IAM matches a secret named by name with the six characters Secrets Manager appends to its ARN.
    read = _statement(_doc(r, "wandb-train-read-key"), "ReadOneSecret")
    assert read["Action"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert read["Resource"] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:fraud/wandb-api-key-??????"
    grantees = {res.inputs["role"] for res in r.of_type(ROLE_POLICY) if "GetSecretValue" in json.dumps(res.inputs)}
    assert len(grantees) == 1  # the training job role, nothing else
    store = r.named("wandb-train-key-store").inputs
    # External Secrets Operator AWS provider: jwt auth through a service account with an IRSA role.
    assert store["spec"]["provider"]["aws"]["auth"] == {"jwt": {"serviceAccountRef": {"name": "train-jobs"}}}
    assert store["metadata"]["namespace"] == "fraud-prod-train"
    external = r.named("wandb-train-key-external").inputs
    assert external["spec"]["data"] == [{"secretKey": "api-key", "remoteRef": {"key": "fraud/wandb-api-key"}}]
    assert external["spec"]["target"]["name"] == "wandb-wandb"
    text = json.dumps([res.inputs for res in r.all])
    assert 'WANDB_API_KEY", "value"' not in text


def test_training_runtimes_carry_the_tracking_uri_and_wait_for_the_server(stacks: dict[str, Captured]) -> None:
    """The Trainer's runtime pod template is what every TrainJob on it starts from; the variables are
    the ones `train_tracking_env` reports, and the runtime names the server's ARN, so it waits for it."""
    r = Resources(stacks["prod"])
    runtimes = r.of_type("kubernetes:trainer.kubeflow.org/v1alpha1:TrainingRuntime")
    assert len(runtimes) == 2
    for runtime in runtimes:
        job = runtime.inputs["spec"]["template"]["spec"]["replicatedJobs"][0]
        env = job["template"]["spec"]["template"]["spec"]["containers"][0]["env"]
        assert env == [{"name": "HOME", "value": "/tmp"}, *stacks["prod"].outputs["train_tracking_env"]]
        uri = next(e["value"] for e in env if e["name"] == "MLFLOW_TRACKING_URI")
        assert uri == "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/fraud-prod-tracking"
        assert "tracking-server" in {r.by_urn[u].name for u in runtime.dependencies}
