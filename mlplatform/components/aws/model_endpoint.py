"""ModelEndpoint on SageMaker: model, endpoint configuration, endpoint with a guarded rollout,
autoscaling, its log group, and an execution role that can read its own artifact and nothing else.

The model and endpoint configuration are immutable in SageMaker, so their names carry the
model version and a digest of their settings: a change creates new ones, the endpoint moves to
them with the blue/green policy (all at once, canary or linear) and rolls back automatically
when one of the monitoring alarms (naming.ROLLBACK_ALARM_METRICS) fires while baking. The
endpoint waits for what it names: its log group (SageMaker would create it, unencrypted and
kept forever, and the platform's own would then fail to create) and its rollback alarms.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.spec import instance_types
from mlplatform.spec.model_endpoint import AllAtOnce, Canary, Linear
from mlplatform.spec.model_endpoint import ModelEndpoint as ModelEndpointSpec
from mlplatform.stack_config import PromotedModel

VARIANT = "primary"
_ECR = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)")


@dataclass
class NetworkPlacement:
    subnet_ids: list[pulumi.Output[str]]
    security_group_ids: list[pulumi.Output[str]]


@dataclass
class ModelEndpointArgs:
    spec: ModelEndpointSpec
    model: PromotedModel
    names: naming.Names
    tags: dict[str, str]
    account_id: str
    region: str
    kms_key_arn: pulumi.Input[str]
    registry_bucket: pulumi.Input[str]
    registry_bucket_arn: pulumi.Input[str]
    network: NetworkPlacement | None = None
    # The monitoring alarms a deployment rolls back on (naming.ROLLBACK_ALARM_METRICS); the
    # endpoint names them in its auto-rollback configuration, so it is created after them.
    rollback_alarms: list[aws.cloudwatch.MetricAlarm] = field(default_factory=list)
    log_retention_days: int = 365
    partition: str = "aws"


# Where SageMaker publishes endpoint instance metrics (CPUUtilization, MemoryUtilization, ...).
ENDPOINT_METRICS_NAMESPACE = "/aws/sagemaker/Endpoints"


def volume_key(spec: ModelEndpointSpec, key_arn: pulumi.Input[str] | None) -> pulumi.Input[str] | None:
    """The key for the instances' storage volume, or None where SageMaker refuses one: serverless
    variants have no volume, and instance types with local NVMe storage encrypt it in hardware
    (CreateEndpointConfig fails if KmsKeyId is set for them; SageMaker API Reference)."""
    if spec.serverless or instance_types.has_local_storage(spec.instance_type):
        return None
    return key_arn


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"model artifact '{uri}' is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class ModelEndpoint(pulumi.ComponentResource):
    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:ModelEndpoint", name, None, opts)
        spec, n, a = args.spec, args.names, args
        self.args = args
        child = pulumi.ResourceOptions(parent=self)
        opt_out = set(spec.opt_out)
        self.opt_outs = sorted(opt_out)
        for item in self.opt_outs:
            pulumi.log.warn(f"ModelEndpoint '{spec.name}': secure default '{item}' is turned off (opt_out)", self)
        key_arn = None if "kms_encryption" in opt_out else a.kms_key_arn
        isolated = "network_isolation" not in opt_out
        network = None if "vpc" in opt_out else a.network
        self.endpoint_name = n.endpoint(spec.name)

        self.role = policies.service_role(
            f"{name}-role",
            n.role(spec.name, "execution"),
            "sagemaker.amazonaws.com",
            a.tags,
            child,
            account_id=a.account_id,
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            policy=self._execution_policy(key_arn, network is not None),
            opts=child,
        )
        # The log group SageMaker writes container logs to, created before the endpoint: if
        # SageMaker created it first, it would have no retention and no key, and this would fail.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=n.endpoint_log_group(spec.name),
            retention_in_days=a.log_retention_days,
            kms_key_id=key_arn,
            tags=a.tags,
            opts=child,
        )

        model_digest = digest(a.model, isolated, network is not None, spec.name)
        self.model = aws.sagemaker.Model(
            f"{name}-model",
            name=n.sagemaker_model(spec.name, a.model.version, model_digest),
            execution_role_arn=self.role.arn,
            primary_container=aws.sagemaker.ModelPrimaryContainerArgs(
                image=a.model.image,
                model_data_url=a.model.uri,
                environment={"MLPLATFORM_MODEL_VERSION": a.model.version, "MLPLATFORM_MODEL_SHA256": a.model.sha256},
            ),
            enable_network_isolation=isolated,
            vpc_config=aws.sagemaker.ModelVpcConfigArgs(
                subnets=network.subnet_ids, security_group_ids=network.security_group_ids
            )
            if network
            else None,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]),
        )

        if spec.serverless:
            variant = aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                variant_name=VARIANT,
                model_name=self.model.name,
                serverless_config=aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgs(
                    memory_size_in_mb=spec.serverless.memory_mb, max_concurrency=spec.serverless.max_concurrency
                ),
            )
        else:
            variant = aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                variant_name=VARIANT,
                model_name=self.model.name,
                instance_type=spec.instance_type,
                initial_instance_count=spec.min_instances,
                initial_variant_weight=1.0,
            )
        capture = None
        if spec.data_capture_percent > 0:
            capture = aws.sagemaker.EndpointConfigurationDataCaptureConfigArgs(
                enable_capture=True,
                initial_sampling_percentage=spec.data_capture_percent,
                destination_s3_uri=pulumi.Output.concat(
                    "s3://", a.registry_bucket, "/", naming.data_capture_prefix(spec.name).rstrip("/")
                ),
                kms_key_id=key_arn,
                capture_options=[
                    aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode="Input"),
                    aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode="Output"),
                ],
                capture_content_type_header=aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureContentTypeHeaderArgs(
                    csv_content_types=["text/csv"], json_content_types=["application/json"]
                ),
            )
        config_digest = digest(model_digest, spec.model_dump(mode="json"), key_arn is not None)
        self.endpoint_config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            name=n.endpoint_config(spec.name, config_digest),
            production_variants=[variant],
            kms_key_arn=volume_key(spec, key_arn),
            data_capture_config=capture,
            tags=a.tags,
            opts=child,
        )

        # An autoscaled variant's instance type can change only while it is not a scalable target
        # (SageMaker Developer Guide, "Update endpoints that use auto scaling"). This marker is
        # replaced, delete-before-replace, when the instance type changes; the scalable target
        # and its policy take an input from it, so Pulumi deregisters them before the endpoint
        # update and registers them again after it.
        self.scaling_generation: random.RandomId | None = None
        autoscaled = not spec.serverless and spec.max_instances > spec.min_instances
        if autoscaled:
            self.scaling_generation = random.RandomId(
                f"{name}-scaling-generation",
                byte_length=4,
                keepers={"instance_type": spec.instance_type, "variant": VARIANT},
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
        waits: list[pulumi.Resource] = [self.log_group, *a.rollback_alarms]
        if self.scaling_generation is not None:
            waits.append(self.scaling_generation)
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.name,
            deployment_config=None if spec.serverless else self._deployment_config(),
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits),
        )

        self.scaling_target: aws.appautoscaling.Target | None = None
        if autoscaled:
            self._autoscaling(name)

        self.register_outputs(
            {
                "endpoint_name": self.endpoint.name,
                "endpoint_arn": self.endpoint.arn,
                "model_name": self.model.name,
                "model_version": a.model.version,
                "execution_role_arn": self.role.arn,
                "rollback_alarms": [alarm.name for alarm in a.rollback_alarms],
                "opt_outs": self.opt_outs,
            }
        )

    def _execution_policy(self, key_arn: pulumi.Input[str] | None, in_vpc: bool) -> pulumi.Output[str]:
        a, spec = self.args, self.args.spec
        bucket, key = split_s3_uri(a.model.uri)
        artifact_prefix = key.rsplit("/", 1)[0] + "/" if "/" in key else key
        log_group = (
            f"arn:{a.partition}:logs:{a.region}:{a.account_id}:log-group:{a.names.endpoint_log_group(spec.name)}"
        )
        statements: list[policies.Statement | None] = [
            policies.allow(
                ["s3:GetObject"], f"arn:{a.partition}:s3:::{bucket}/{artifact_prefix}*", sid="ReadOwnArtifact"
            ),
            policies.allow(
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                [log_group, f"{log_group}:*"],
                sid="WriteEndpointLogs",
            ),
            # Instance metrics; namespaces starting with AWS/ are reserved to AWS services and
            # PutMetricData rejects them, so none is granted.
            policies.allow(
                ["cloudwatch:PutMetricData"],
                "*",
                sid="PublishEndpointMetrics",
                StringEquals={"cloudwatch:namespace": ENDPOINT_METRICS_NAMESPACE},
            ),
            policies.kms_use(key_arn),
            policies.kms_grant(key_arn),
        ]
        ecr = _ECR.match(a.model.image)
        if ecr:
            repository = f"arn:{a.partition}:ecr:{ecr['region']}:{ecr['account']}:repository/{ecr['repo']}"
            statements += [
                policies.allow(
                    ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    repository,
                    sid="PullServingImage",
                ),
                # GetAuthorizationToken is account-wide by design: it has no resource to scope to.
                policies.allow(["ecr:GetAuthorizationToken"], "*", sid="EcrLogin"),
            ]
        if spec.data_capture_percent > 0:
            statements.append(
                policies.allow(
                    ["s3:PutObject"],
                    pulumi.Output.concat(a.registry_bucket_arn, "/", naming.data_capture_prefix(spec.name), "*"),
                    sid="WriteCapturedData",
                )
            )
        if a.rollback_alarms and not spec.serverless:
            # Deployment guardrails read the rollback alarms with the execution role.
            statements.append(
                policies.allow(
                    ["cloudwatch:DescribeAlarms"],
                    [alarm.arn for alarm in a.rollback_alarms],
                    sid="ReadRollbackAlarms",
                )
            )
        if in_vpc:
            statements.append(policies.vpc_network_interfaces())
        return policies.document(*statements)

    def _deployment_config(self) -> aws.sagemaker.EndpointDeploymentConfigArgs:
        d = self.args.spec.deployment
        routing = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs
        if isinstance(d, Canary):
            traffic = routing(
                type="CANARY",
                wait_interval_in_seconds=d.bake_minutes * 60,
                canary_size=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
                    type="CAPACITY_PERCENT", value=d.percent
                ),
            )
            total = d.bake_minutes * 2
        elif isinstance(d, Linear):
            traffic = routing(
                type="LINEAR",
                wait_interval_in_seconds=d.interval_minutes * 60,
                linear_step_size=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationLinearStepSizeArgs(
                    type="CAPACITY_PERCENT", value=d.step_percent
                ),
            )
            total = d.interval_minutes * -(-100 // d.step_percent) + d.bake_minutes
        else:
            assert isinstance(d, AllAtOnce)
            traffic = routing(type="ALL_AT_ONCE", wait_interval_in_seconds=d.bake_minutes * 60)
            total = d.bake_minutes
        rollback = None
        if self.args.rollback_alarms:
            rollback = aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
                alarms=[
                    aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=alarm.name)
                    for alarm in self.args.rollback_alarms
                ]
            )
        return aws.sagemaker.EndpointDeploymentConfigArgs(
            blue_green_update_policy=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
                traffic_routing_configuration=traffic,
                termination_wait_in_seconds=min(3600, d.bake_minutes * 60),
                # Room for provisioning the new fleet plus every traffic step and bake.
                maximum_execution_timeout_in_seconds=min(14400, max(600, 1800 + total * 60)),
            ),
            auto_rollback_configuration=rollback,
        )

    def _autoscaling(self, name: str) -> None:
        spec = self.args.spec
        assert self.scaling_generation is not None
        # The generation's keepers only carry the dependency (see scaling_generation).
        resource_id = pulumi.Output.all(self.endpoint.name, self.scaling_generation.keepers).apply(
            lambda v: f"endpoint/{v[0]}/variant/{VARIANT}"
        )
        self.scaling_target = aws.appautoscaling.Target(
            f"{name}-scaling-target",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=resource_id,
            min_capacity=spec.min_instances,
            max_capacity=spec.max_instances,
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.endpoint]),
        )
        self.scaling_policy = aws.appautoscaling.Policy(
            f"{name}-scaling-policy",
            name=f"{self.endpoint_name}-invocations",
            policy_type="TargetTrackingScaling",
            service_namespace=self.scaling_target.service_namespace,
            scalable_dimension=self.scaling_target.scalable_dimension,
            resource_id=self.scaling_target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(spec.target_invocations_per_instance),
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance"
                ),
                scale_in_cooldown=300,
                scale_out_cooldown=60,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def grant_invoke(self, role: aws.iam.Role, label: str) -> aws.iam.RolePolicy:
        """Let `role` call this endpoint (and no other)."""
        return aws.iam.RolePolicy(
            f"{self._name}-invoke-{label}",
            role=role.id,
            policy=policies.document(
                policies.allow(["sagemaker:InvokeEndpoint"], self.endpoint.arn, sid="InvokeEndpoint")
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
