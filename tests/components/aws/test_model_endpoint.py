"""ModelEndpoint: model, endpoint configuration, guarded rollout, autoscaling, execution role."""

from __future__ import annotations

import pytest

from mlplatform.components.aws.model_endpoint import ModelEndpoint, ModelEndpointArgs, NetworkPlacement
from mlplatform.spec.model_endpoint import Canary, Linear, Serverless
from mlplatform.spec.model_endpoint import ModelEndpoint as Spec
from mlplatform.stack_config import PromotedModel
from tests.components.aws.helpers import ACCOUNT, KEY_ARN, REGION, REGISTRY, REGISTRY_ARN, TAGS, names, out
from tests.components.conftest import Resources, actions, assert_tagged, run

MODEL = PromotedModel(
    version="5",
    uri=f"s3://{REGISTRY}/models/fraud-xgb/5/model.tar.gz",
    sha256="ef" * 32,
    image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
)
ALARMS = ["fraud-dev-scorer-latency-p99", "fraud-dev-scorer-5xx-rate"]


def _endpoint(spec: Spec, rollback: list[str] | None = None) -> None:
    endpoint = ModelEndpoint(
        "scorer",
        ModelEndpointArgs(
            spec=spec,
            model=MODEL,
            names=names(),
            tags=TAGS,
            account_id=ACCOUNT,
            region=REGION,
            kms_key_arn=KEY_ARN,
            registry_bucket=REGISTRY,
            registry_bucket_arn=REGISTRY_ARN,
            network=NetworkPlacement([out("subnet-a"), out("subnet-b")], [out("sg-serving")]),
            rollback_alarms=rollback or [],
        ),
    )
    import pulumi_aws as aws

    endpoint.grant_invoke(aws.iam.Role("caller", assume_role_policy="{}"), "caller")


@pytest.fixture(scope="module")
def canary() -> Resources:
    spec = Spec(
        name="scorer",
        model="fraud-xgb",
        instance_type="ml.m5.xlarge",
        min_instances=2,
        max_instances=8,
        data_capture_percent=20,
        deployment=Canary(percent=10, bake_minutes=10),
    )
    return Resources(run(lambda: _endpoint(spec, ALARMS)))


@pytest.fixture(scope="module")
def linear() -> Resources:
    spec = Spec(name="scorer", model="fraud-xgb", deployment=Linear(step_percent=25, interval_minutes=5))
    return Resources(run(lambda: _endpoint(spec)))


@pytest.fixture(scope="module")
def opted_out() -> Resources:
    spec = Spec(
        name="scorer",
        model="fraud-xgb",
        serverless=Serverless(),
        data_capture_percent=5,
        opt_out=["kms_encryption", "network_isolation", "vpc"],
    )
    return Resources(run(lambda: _endpoint(spec)))


def test_children_parented_named_and_tagged(canary: Resources) -> None:
    component = canary.component("mlplatform:aws:ModelEndpoint")
    mine = [r for r in canary.all if r is not component and r.name != "caller"]
    assert all(r.parent == component.urn and r.name.startswith("scorer-") for r in mine)
    assert assert_tagged(mine, TAGS) >= 5


def test_model_image_artifact_isolation_and_vpc(canary: Resources) -> None:
    model = canary.one("aws:sagemaker/model:Model").inputs
    assert model["name"].startswith("fraud-dev-scorer-v5-")
    assert model["primaryContainer"]["image"] == MODEL.image
    assert model["primaryContainer"]["modelDataUrl"] == MODEL.uri
    assert model["enableNetworkIsolation"] is True
    assert model["vpcConfig"] == {"subnets": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-serving"]}


def test_endpoint_configuration_kms_capture_and_variant(canary: Resources) -> None:
    config = canary.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    assert config["kmsKeyArn"] == KEY_ARN
    capture = config["dataCaptureConfig"]
    assert capture["initialSamplingPercentage"] == 20 and capture["kmsKeyId"] == KEY_ARN
    assert capture["destinationS3Uri"] == f"s3://{REGISTRY}/data-capture/scorer"
    variant = config["productionVariants"][0]
    assert (variant["instanceType"], variant["initialInstanceCount"], variant["variantName"]) == (
        "ml.m5.xlarge",
        2,
        "primary",
    )


def test_canary_rollout_rolls_back_on_the_monitoring_alarms(canary: Resources) -> None:
    endpoint = canary.one("aws:sagemaker/endpoint:Endpoint").inputs
    assert endpoint["name"] == "fraud-dev-scorer"
    deployment = endpoint["deploymentConfig"]
    routing = deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY" and routing["canarySize"] == {"type": "CAPACITY_PERCENT", "value": 10}
    assert routing["waitIntervalInSeconds"] == 600
    assert [a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]] == ALARMS


def test_linear_rollout(linear: Resources) -> None:
    routing = linear.one("aws:sagemaker/endpoint:Endpoint").inputs["deploymentConfig"]["blueGreenUpdatePolicy"][
        "trafficRoutingConfiguration"
    ]
    assert routing["type"] == "LINEAR" and routing["linearStepSize"]["value"] == 25
    assert not linear.of_type("aws:appautoscaling/target:Target")  # min == max: no autoscaling


def test_autoscaling_on_invocations_per_instance(canary: Resources) -> None:
    target = canary.one("aws:appautoscaling/target:Target").inputs
    assert target["resourceId"] == "endpoint/fraud-dev-scorer/variant/primary"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 8)
    policy = canary.one("aws:appautoscaling/policy:Policy").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    assert tracking["targetValue"] == 1000


def test_execution_role_reads_only_its_artifact_prefix(canary: Resources) -> None:
    policy = canary.policy(canary.named("scorer-role-policy"))
    assert not [a for a in actions(policy) if "*" in a]
    read = next(s for s in policy["Statement"] if s.get("Sid") == "ReadOwnArtifact")
    assert read["Resource"] == f"{REGISTRY_ARN}/models/fraud-xgb/5/*"
    capture = next(s for s in policy["Statement"] if s.get("Sid") == "WriteCapturedData")
    assert capture["Resource"] == f"{REGISTRY_ARN}/data-capture/scorer/*"
    assert "AmazonSageMakerFullAccess" not in str(canary.all)


def test_grant_invoke_is_scoped_to_the_endpoint(canary: Resources) -> None:
    statement = canary.policy(canary.named("scorer-invoke-caller"))["Statement"][0]
    assert statement["Action"] == ["sagemaker:InvokeEndpoint"]
    assert statement["Resource"].endswith(":endpoint/fraud-dev-scorer")


def test_opt_outs_and_serverless(opted_out: Resources) -> None:
    model = opted_out.one("aws:sagemaker/model:Model").inputs
    assert model["enableNetworkIsolation"] is False and "vpcConfig" not in model
    config = opted_out.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    assert "kmsKeyArn" not in config and "kmsKeyId" not in config["dataCaptureConfig"]
    assert config["productionVariants"][0]["serverlessConfig"] == {"memorySizeInMb": 2048, "maxConcurrency": 20}
    assert "deploymentConfig" not in opted_out.one("aws:sagemaker/endpoint:Endpoint").inputs
    warned = " ".join(opted_out.captured.warnings)
    assert all(o in warned for o in ("kms_encryption", "network_isolation", "vpc"))
