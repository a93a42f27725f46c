"""ModelEndpoint: model, endpoint configuration, guarded rollout, autoscaling, execution role."""

from __future__ import annotations

import json

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
    import pulumi_aws as aws

    alarms = [
        aws.cloudwatch.MetricAlarm(
            name, name=name, comparison_operator="GreaterThanThreshold", evaluation_periods=1, threshold=1
        )
        for name in rollback or []
    ]
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
            rollback_alarms=alarms,
        ),
    )
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
    mine = [r for r in canary.all if r is not component and r.name != "caller" and r.name not in ALARMS]
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


# SageMaker Developer Guide, "Log Amazon SageMaker AI events with Amazon CloudWatch": endpoint
# containers log to /aws/sagemaker/Endpoints/<endpoint>, which SageMaker creates (no retention, no
# key) if it does not exist; created first, the platform's group has both and does not collide.
def test_log_group_exists_before_the_endpoint_with_retention_and_key(canary: Resources) -> None:
    group = canary.named("scorer-logs")
    assert group.inputs["name"] == "/aws/sagemaker/Endpoints/fraud-dev-scorer"
    assert group.inputs["retentionInDays"] == 365 and group.inputs["kmsKeyId"] == KEY_ARN
    assert group.urn in canary.named("scorer-endpoint").dependencies


# SageMaker Developer Guide, "Auto-Rollback Configuration and Monitoring": "Ensure that your IAM
# execution role has permission to perform the cloudwatch:DescribeAlarms action on the
# auto-rollback alarms you specify"; CreateEndpoint names them, so they must exist first.
def test_rollback_alarms_exist_first_and_the_execution_role_may_describe_them(canary: Resources) -> None:
    endpoint = canary.named("scorer-endpoint")
    alarm_urns = {canary.named(a).urn for a in ALARMS}
    assert alarm_urns <= set(endpoint.dependencies)
    policy = canary.policy(canary.named("scorer-role-policy"))
    describe = next(s for s in policy["Statement"] if s.get("Sid") == "ReadRollbackAlarms")
    assert describe["Action"] == ["cloudwatch:DescribeAlarms"]
    # Scoped to the two alarms' ARNs (as the mocks shape them), nothing else.
    assert [arn.rsplit("/", 1)[-1] for arn in describe["Resource"]] == ALARMS
    assert all(arn.startswith(f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:") for arn in describe["Resource"])


# SageMaker Developer Guide, "SageMaker AI Roles", CreateModel API execution role permissions: the
# ec2 network-interface actions on "*" for a model in a VPC; SageMaker validates the role and
# rejects conditions (the old aws:RequestedRegion) on them.
def test_vpc_network_interface_actions_are_unconditioned(canary: Resources) -> None:
    policy = canary.policy(canary.named("scorer-role-policy"))
    eni = next(s for s in policy["Statement"] if "ec2:CreateNetworkInterface" in s["Action"])
    assert eni["Resource"] == "*" and "Condition" not in eni
    assert set(eni["Action"]) == {
        "ec2:CreateNetworkInterface",
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
    }


# CloudWatch API Reference, PutMetricData: "Namespace ... must not begin with AWS/" (reserved for
# AWS services); a grant for AWS/SageMaker can never apply.
def test_no_metric_permission_for_reserved_namespaces(canary: Resources) -> None:
    policy = canary.policy(canary.named("scorer-role-policy"))
    metrics = next(s for s in policy["Statement"] if s.get("Sid") == "PublishEndpointMetrics")
    namespaces = metrics["Condition"]["StringEquals"]["cloudwatch:namespace"]
    assert namespaces == "/aws/sagemaker/Endpoints"
    assert "AWS/" not in json.dumps(policy)


# SageMaker API Reference, CreateEndpointConfig KmsKeyId: "If you specify a value for KmsKeyId when
# using any nitro-based instances with local storage, the call to CreateEndpointConfig fails."
@pytest.mark.parametrize("instance_type", ["ml.g5.2xlarge", "ml.m5d.xlarge", "ml.g4dn.xlarge", "ml.p4d.24xlarge"])
def test_no_volume_key_on_instance_types_with_local_nvme_storage(instance_type: str) -> None:
    r = Resources(run(lambda: _endpoint(Spec(name="scorer", model="fraud-xgb", instance_type=instance_type))))
    config = r.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    assert "kmsKeyArn" not in config
    assert config["productionVariants"][0]["instanceType"] == instance_type


def test_volume_key_on_instance_types_with_ebs_storage(canary: Resources) -> None:
    assert canary.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs["kmsKeyArn"] == KEY_ARN


# SageMaker Developer Guide, "Update endpoints that use auto scaling": an update that changes the
# instance type of a variant registered for auto scaling fails; deregister it first, register it
# after. The scaling generation is replaced delete-before-replace when the instance type changes,
# and the scalable target (and its policy) take an input from it, so Pulumi's dependent-replacement
# deletes them first; the endpoint waits for the new generation, the target for the endpoint.
def test_autoscaled_instance_type_change_deregisters_the_target_around_the_update(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlplatform.plan import engine

    delete_first: list[str] = []
    original = engine.CapturingMonitor.RegisterResource

    def record(self: engine.CapturingMonitor, request: object) -> object:
        if getattr(request, "deleteBeforeReplace", False):
            delete_first.append(str(request.name))
        return original(self, request)

    monkeypatch.setattr(engine.CapturingMonitor, "RegisterResource", record)
    spec = Spec(name="scorer", model="fraud-xgb", instance_type="ml.m5.xlarge", min_instances=2, max_instances=4)
    r = Resources(run(lambda: _endpoint(spec)))
    generation = r.named("scorer-scaling-generation")
    assert generation.type == "random:index/randomId:RandomId"
    assert generation.inputs["keepers"] == {"instance_type": "ml.m5.xlarge", "variant": "primary"}
    assert delete_first == ["scorer-scaling-generation"]
    target, endpoint = r.named("scorer-scaling-target"), r.named("scorer-endpoint")
    assert generation.urn in target.dependencies and endpoint.urn in target.dependencies
    assert generation.urn in endpoint.dependencies
    assert target.inputs["resourceId"] == "endpoint/fraud-dev-scorer/variant/primary"
