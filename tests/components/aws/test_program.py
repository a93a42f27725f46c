"""The whole Pulumi program for the example stacks, with the stack files as config: as they are
(a first deploy, nothing promoted) and with a promoted version (stacks/samples/)."""

from __future__ import annotations

import json

import pytest

from mlplatform.plan.engine import Captured
from tests.components.aws.helpers import TAGS
from tests.components.conftest import STACKS, Resources, assert_tagged, run_stack, run_stack_file

AWS_STACKS = ("dev", "staging", "prod")
RECS_STACKS = ("recs-dev", "recs-staging", "recs-prod")
SAGEMAKER_SERVING = (
    "aws:sagemaker/model:Model",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:sagemaker/endpoint:Endpoint",
    "aws:appautoscaling/target:Target",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
)


@pytest.fixture(scope="module")
def stacks() -> dict[str, Captured]:
    """Each environment with fraud-xgb promoted (the sample stack files)."""
    return {env: run_stack_file(STACKS / "samples" / f"Pulumi.{env}-promoted.yaml") for env in AWS_STACKS}


@pytest.fixture(scope="module")
def first_deploy() -> dict[str, Captured]:
    """Each environment's stack file as it is: nothing promoted yet."""
    return {env: run_stack(env) for env in AWS_STACKS}


# SageMaker API Reference, CreateModel: "ModelDataUrl ... The S3 path must point to an existing
# object" (the provider retries for two minutes, then fails). A fresh account has no promoted
# version, so the first deploy must name no artifact: no Model, and nothing built on one.
@pytest.mark.parametrize("env", AWS_STACKS)
def test_first_deploy_creates_no_sagemaker_model(first_deploy: dict[str, Captured], env: str) -> None:
    r = Resources(first_deploy[env])
    assert not [x.type for x in r.all if x.type in SAGEMAKER_SERVING]
    assert not [x for x in r.all if "modelDataUrl" in str(x.inputs)]
    components = {c.type for c in r.all if not c.custom}
    assert {"mlplatform:aws:PlatformCore", "mlplatform:aws:Network", "mlplatform:aws:TrainingCluster"} <= components
    assert "mlplatform:aws:ModelEndpoint" not in components
    assert (
        f"ModelEndpoint 'scorer': model 'fraud-xgb' has no promoted version in {env} (stack config "
        "mlplatform:models); the endpoint is left out until one is promoted"
    ) in first_deploy[env].warnings


def test_example_stack_files_name_no_model_before_a_promotion() -> None:
    from mlplatform import stack_config

    for env in AWS_STACKS:
        assert stack_config.read(STACKS / f"Pulumi.{env}.yaml").models == {}


@pytest.fixture(scope="module")
def prod(stacks: dict[str, Captured]) -> Resources:
    return Resources(stacks["prod"])


def _under(r: Resources, type_: str, component_type: str) -> list:
    found = r.of_type(type_)
    assert found, f"no {type_}"
    for resource in found:
        parent = r.parent_of(resource)
        assert parent is not None and parent.type == component_type, f"{resource.name} is under {parent}"
    return found


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_aws_stack_builds_all_components_tagged(stacks: dict[str, Captured], stack: str) -> None:
    r = Resources(stacks[stack])
    components = {c.type for c in r.all if not c.custom}
    assert {
        "mlplatform:aws:PlatformCore",
        "mlplatform:aws:Network",
        "mlplatform:aws:FeatureStore",
        "mlplatform:aws:TrainingCluster",
        "mlplatform:aws:ModelEndpoint",
        "mlplatform:aws:MonitoringStack",
    } <= components
    expected = {k: v for k, v in TAGS.items() if k != "mlplatform:component"} | {"mlplatform:environment": stack}
    assert assert_tagged(r.all, expected) > 60
    for resource in r.all:
        if resource.type.startswith("aws:"):
            assert r.parent_of(resource) is not None and not r.parent_of(resource).custom  # type: ignore[union-attr]


def test_dev_differs_from_prod_where_the_blueprint_says(stacks: dict[str, Captured]) -> None:
    dev, prod = Resources(stacks["dev"]), Resources(stacks["prod"])
    assert (
        len(dev.of_type("aws:ec2/natGateway:NatGateway")) == 1
        and len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3
    )
    assert not dev.of_type("aws:appautoscaling/target:Target")  # min == max == 1 in dev
    assert "dataCaptureConfig" not in dev.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    assert not dev.named("train-cluster").protect and prod.named("train-cluster").protect
    assert (
        dev.one("aws:sagemaker/model:Model")
        .inputs["primaryContainer"]["modelDataUrl"]
        .endswith("/fraud-xgb/3/model.tar.gz")
    )


def test_prod_must_show(prod: Resources) -> None:
    core, fs, tc = "mlplatform:aws:PlatformCore", "mlplatform:aws:FeatureStore", "mlplatform:aws:TrainingCluster"
    me, mon = "mlplatform:aws:ModelEndpoint", "mlplatform:aws:MonitoringStack"
    key = _under(prod, "aws:kms/key:Key", core)[0]
    assert key.inputs["enableKeyRotation"] is True and key.protect
    registry = prod.named("core-registry")
    assert prod.parent_of(registry).type == core  # type: ignore[union-attr]
    bucket = registry.inputs["bucket"]
    for suffix, check in (
        ("encryption", lambda i: i["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"),
        ("versioning", lambda i: i["versioningConfiguration"]["status"] == "Enabled"),
        ("public-access", lambda i: i["blockPublicPolicy"] is True and i["restrictPublicBuckets"] is True),
        ("policy", lambda i: "aws:SecureTransport" in i["policy"]),
    ):
        part = prod.named(f"core-registry-{suffix}")
        assert part.inputs["bucket"] == bucket and check(part.inputs)
        assert prod.parent_of(part).type == core  # type: ignore[union-attr]
    tables = prod.of_type("aws:dynamodb/table:Table")
    assert {prod.parent_of(t).type for t in tables} == {core, fs}  # type: ignore[union-attr]
    for table in tables:
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
        assert table.inputs["serverSideEncryption"]["kmsKeyArn"].startswith("arn:aws:kms:")
    cluster = _under(prod, "aws:eks/cluster:Cluster", tc)[0]
    # The example's deploy runner reaches the API over the public endpoint, for its CIDRs only.
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is True
    assert cluster.inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    # The GPU pool (min_nodes=0) is a Karpenter NodePool: up to 16 on-demand g5.2xlarge nodes from zero.
    gpu = prod.named("train-karpenter-gpu-nodepool").inputs["spec"]
    assert gpu["limits"] == {"nodes": "16"}
    assert {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]} in gpu["template"]["spec"][
        "requirements"
    ]
    model = _under(prod, "aws:sagemaker/model:Model", me)[0]
    assert model.inputs["primaryContainer"]["modelDataUrl"] == (
        "s3://fraud-prod-model-registry-123456789012/models/fraud-xgb/2/model.tar.gz"
    )
    config = _under(prod, "aws:sagemaker/endpointConfiguration:EndpointConfiguration", me)[0]
    assert config.inputs["dataCaptureConfig"]["initialSamplingPercentage"] == 20
    endpoint = _under(prod, "aws:sagemaker/endpoint:Endpoint", me)[0]
    rollback = {a["alarmName"] for a in endpoint.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]}
    alarms = {a.inputs["name"] for a in _under(prod, "aws:cloudwatch/metricAlarm:MetricAlarm", mon)}
    assert rollback and rollback <= alarms and len(alarms) == 7  # five per endpoint, training pods and queue
    _under(prod, "aws:appautoscaling/target:Target", me)
    _under(prod, "aws:appautoscaling/policy:Policy", me)
    _under(prod, "aws:sns/topic:Topic", mon)
    _under(prod, "aws:cloudwatch/dashboard:Dashboard", mon)


def test_no_iam_policy_allows_a_wildcard_action(prod: Resources) -> None:
    for resource in prod.of_type("aws:iam/rolePolicy:RolePolicy") + prod.of_type("aws:kms/key:Key"):
        for statement in json.loads(resource.inputs["policy"])["Statement"]:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if listed == ["sagemaker-mlflow:*"]:
                # The one service-wide grant, as SageMaker's MLflow guide sets it: scoped to one tracking server.
                assert ":mlflow-tracking-server/" in statement["Resource"], resource.name
                continue
            assert not [a for a in listed if "*" in a], f"{resource.name}: {listed}"


def test_training_job_role_reads_features_and_writes_the_registry_only(prod: Resources) -> None:
    grants = {r.name for r in prod.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-train")}
    # ... and uses the experiment trackers of the blueprint (MLflow, the W&B key).
    assert grants == {"core-training-output-train", "tracking-use-train"}
    attached = prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    feast = {r.name: r.inputs["policyArn"] for r in attached if r.name.startswith("features-")}
    # Training reads features (get_historical_features, get_online_features) and writes none.
    assert feast == {
        "features-historical-train": "arn:aws:iam::123456789012:policy/fraud-prod-features-feast-historical",
        "features-online-read-train": "arn:aws:iam::123456789012:policy/fraud-prod-features-feast-online-read",
    }


# Promoted versions are immutable to everything but promotion: SageMaker re-downloads the model
# artifact from models/ whenever it adds an instance (SageMaker Developer Guide, "Deploy models for
# real-time inference"), so a training job writes to staging/<cluster>/ and is denied models/.
def test_training_jobs_write_staging_and_are_denied_promoted_versions(prod: Resources) -> None:
    registry = "arn:aws:s3:::fraud-prod-model-registry-123456789012"
    grant = prod.policy(prod.named("core-training-output-train"))
    writes = [s for s in grant["Statement"] if "s3:PutObject" in s["Action"]]
    assert [s["Resource"] for s in writes] == [f"{registry}/staging/train/*"]
    assert not [s for s in grant["Statement"] if "/models/" in str(s["Resource"])]
    deny = next(
        s
        for s in prod.policy(prod.named("core-registry-policy"))["Statement"]
        if s.get("Sid") == "DenyWorkloadWritesToPromotedVersions"
    )
    job_role = prod.named("train-job-role").inputs["name"]
    assert f"arn:aws:iam::123456789012:role/{job_role}" in deny["Condition"]["ArnLike"]["aws:PrincipalArn"]
    assert deny["Resource"] == f"{registry}/models/*" and "s3:PutObject" in deny["Action"]


# S3 API Reference, PutBucketLogging: the target bucket must already grant logging.s3.amazonaws.com
# (only NoSuchBucket is retried by the provider), so every BucketLogging waits for that policy.
@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_access_logging_configuration_waits_for_the_target_policy(
    stacks: dict[str, Captured], stack: str
) -> None:
    r = Resources(stacks[stack])
    policies = {p.inputs["bucket"]: p for p in r.of_type("aws:s3/bucketPolicy:BucketPolicy")}
    loggings = r.of_type("aws:s3/bucketLogging:BucketLogging")
    assert len(loggings) >= 2  # the registry and the offline feature store
    for logging in loggings:
        assert policies[logging.inputs["targetBucket"]].urn in logging.dependencies, logging.name


def test_feature_store_yaml_and_opt_outs_are_exported(prod: Resources) -> None:
    assert 'provider: "aws"' in prod.captured.outputs["features_feature_store_yaml"]
    # The one opt-out is named, waived in the blueprint, and exported.
    assert prod.captured.outputs["opt_outs"] == ["train:private_endpoint"]


@pytest.mark.parametrize("stack", RECS_STACKS)
def test_kubernetes_example_gets_the_aws_core(stack: str) -> None:
    r = Resources(run_stack(stack))
    env = stack.removeprefix("recs-")
    core = r.component("mlplatform:aws:PlatformCore")
    assert r.named("core-ledger").inputs["name"] == f"recs-{env}-promotion-ledger"
    groups = {g.inputs["modelPackageGroupName"] for g in r.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")}
    assert groups == {f"recs-{env}-recs-ranker", f"recs-{env}-recs-embedder"}
    assert not [c for c in r.all if c.type == "mlplatform:aws:TrainingCluster"]
    # The cluster's existing VPC is declared (the tracking database lives there), never created.
    assert r.component("mlplatform:aws:Network") and not r.of_type("aws:ec2/vpc:Vpc")
    assert all(r.parent_of(x) is not None for x in r.children(core))


# `mlplatform feast-config` renders offline the very text `pulumi up` exports for the FeatureStore.
@pytest.mark.parametrize("stack", AWS_STACKS)
def test_feast_config_command_writes_the_stack_output(stacks: dict[str, Captured], stack: str) -> None:
    from mlplatform.plan.feast import feast_config_for
    from tests.conftest import ROOT

    found = feast_config_for(
        ROOT / "blueprints" / "fraud_detection.py", stack=stack, account_id="123456789012", root=ROOT
    )
    assert found.text == stacks[stack].outputs["features_feature_store_yaml"]


# The Feast tables of the prod example: KMS, point-in-time recovery, and protected twice (DynamoDB's
# deletion protection and Pulumi's protect), one per online feature view the blueprint declares.
def test_prod_feast_tables_are_encrypted_recoverable_and_protected(prod: Resources) -> None:
    tables = [t for t in prod.of_type("aws:dynamodb/table:Table") if t.name.startswith("features-online-")]
    assert sorted(t.inputs["name"] for t in tables) == [
        "fraud_prod_features.card_activity",
        "fraud_prod_features.merchant_risk",
    ]
    key = prod.named("core-key").urn
    for table in tables:
        assert table.inputs["serverSideEncryption"]["enabled"] is True
        assert table.inputs["serverSideEncryption"]["kmsKeyArn"].startswith("arn:aws:kms:")
        assert key in table.dependencies  # encrypted with the platform key
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
        assert table.inputs["deletionProtectionEnabled"] is True and table.protect
