"""Platform core: what every environment has, whatever its components.

One KMS key (rotation on) that every other component encrypts with, the model registry and
access-logs buckets, the promotion ledger table, a SageMaker model package group per served
model, and the SSM parameters through which the `mlplatform` CLI discovers all of it without
the Pulumi CLI (names from `mlplatform.naming`, which the CLI and its sandbox use too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.components.aws.buckets import BucketSettings, SecureBucket, secure_bucket


@dataclass
class EndpointRecord:
    """What the CLI learns about an endpoint from SSM (naming.ssm_endpoint_key)."""

    name: str  # the endpoint's spec name
    model: str
    target: str
    physical_name: str
    alarms: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {"name": self.physical_name, "model": self.model, "target": self.target, "alarms": self.alarms},
            sort_keys=True,
        )


@dataclass
class PlatformCoreArgs:
    names: naming.Names
    tags: dict[str, str]
    account_id: str
    region: str
    partition: str = "aws"
    models: list[str] = field(default_factory=list)  # models served in this environment
    endpoints: list[EndpointRecord] = field(default_factory=list)
    protect: bool = False  # prod: key, registry and ledger cannot be deleted by `pulumi up`
    registry_noncurrent_days: int = 365


class PlatformCore(pulumi.ComponentResource):
    key: aws.kms.Key
    registry: SecureBucket
    access_logs: SecureBucket
    ledger: aws.dynamodb.Table

    def __init__(self, name: str, args: PlatformCoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:PlatformCore", name, None, opts)
        n, tags = args.names, args.tags
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"mlplatform {n.platform} {n.env}: encrypts buckets, tables, logs, topics, endpoints",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy(args.account_id, args.region, args.partition),
            tags=tags,
            opts=kept,
        )
        aws.kms.Alias(f"{name}-key-alias", name=n.kms_alias(), target_key_id=self.key.key_id, opts=child)

        self.access_logs = secure_bucket(
            self,
            f"{name}-access-logs",
            BucketSettings(
                bucket_name=n.access_logs_bucket(args.account_id),
                tags=tags,
                # S3 delivers server access logs only to buckets encrypted with SSE-S3.
                kms_key_arn=None,
                expire_days=365,
                log_delivery_account=args.account_id,
            ),
        )
        self.registry = secure_bucket(
            self,
            f"{name}-registry",
            BucketSettings(
                bucket_name=n.registry_bucket(args.account_id),
                tags=tags,
                kms_key_arn=self.key.arn,
                access_logs_bucket=self.access_logs.name,
                access_logs_prefix=f"{n.registry_bucket(args.account_id)}/",
                noncurrent_days=args.registry_noncurrent_days,
                extra_rules=[
                    # A promotion lock outlives its process only when that process crashed.
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id="expire-stale-locks",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=naming.REGISTRY_LOCKS_PREFIX),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=1),
                    )
                ],
            ),
        )
        if args.protect:
            pulumi.log.info(f"{n.prefix}: KMS key, registry bucket and ledger table are protected", self)

        self.ledger = aws.dynamodb.Table(
            f"{name}-ledger",
            name=n.ledger_table(),
            billing_mode="PAY_PER_REQUEST",
            hash_key=naming.LEDGER_PARTITION_KEY,
            range_key=naming.LEDGER_SORT_KEY,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=naming.LEDGER_PARTITION_KEY, type="S"),
                aws.dynamodb.TableAttributeArgs(name=naming.LEDGER_SORT_KEY, type="S"),
            ],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=self.key.arn),
            deletion_protection_enabled=args.protect,
            tags=tags,
            opts=kept,
        )

        self.model_package_groups = {
            model: aws.sagemaker.ModelPackageGroup(
                f"{name}-{model}-packages",
                model_package_group_name=n.model_package_group(model),
                model_package_group_description=f"Versions of {model} registered in {n.env}",
                tags=tags,
                opts=child,
            )
            for model in sorted(set(args.models))
        }

        values: dict[str, pulumi.Input[str]] = {
            naming.SSM_REGISTRY_BUCKET: self.registry.name,
            naming.SSM_LEDGER_TABLE: self.ledger.name,
            naming.SSM_KMS_KEY_ARN: self.key.arn,
            naming.SSM_ACCOUNT_ID: args.account_id,
            naming.SSM_REGION: args.region,
        }
        for model, group in self.model_package_groups.items():
            values[naming.ssm_model_package_group_key(model)] = group.model_package_group_name
        for record in args.endpoints:
            values[naming.ssm_endpoint_key(record.name)] = record.to_json()
        self.parameters = {
            key: aws.ssm.Parameter(
                f"{name}-ssm-{key.replace('/', '-')}",
                name=n.ssm_parameter(key),
                type="String",
                # insecure_value: plain text, shown in plans (`value` is always treated as secret);
                # nothing published here is sensitive.
                insecure_value=value,
                description=f"mlplatform discovery: {key}",
                tags=tags,
                opts=child,
            )
            for key, value in values.items()
        }

        self.register_outputs(
            {
                "kms_key_arn": self.key.arn,
                "kms_alias": n.kms_alias(),
                "registry_bucket": self.registry.name,
                "access_logs_bucket": self.access_logs.name,
                "ledger_table": self.ledger.name,
                "ssm_parameters": sorted(n.ssm_parameter(k) for k in values),
            }
        )

    def registry_write_statements(self) -> list[policies.Statement]:
        """Write model versions under models/ (nothing else) and use the key for them."""
        models = pulumi.Output.concat(self.registry.arn, "/", naming.REGISTRY_MODELS_PREFIX, "*")
        return [
            policies.allow(["s3:GetObject", "s3:PutObject"], models, sid="WriteModelArtifacts"),
            policies.allow(
                ["s3:ListBucket"],
                self.registry.arn,
                sid="ListModelArtifacts",
                StringLike={"s3:prefix": [f"{naming.REGISTRY_MODELS_PREFIX}*"]},
            ),
            policies.allow(policies.KMS_USE, self.key.arn, sid="UsePlatformKey"),
        ]

    def grant_registry_write(self, role: aws.iam.Role, label: str) -> aws.iam.RolePolicy:
        """Let `role` write model artifacts to the registry (e.g. a training job role)."""
        return aws.iam.RolePolicy(
            f"{self._name}-registry-write-{label}",
            role=role.id,
            policy=policies.document(*self.registry_write_statements()),
            opts=pulumi.ResourceOptions(parent=self),
        )


def key_policy(account_id: str, region: str, partition: str) -> pulumi.Output[str]:
    """The key's policy: the account administers it through IAM; CloudWatch Logs may encrypt
    log groups of this account; CloudWatch alarms and EventBridge may publish to topics
    encrypted with it; SageMaker, EKS, S3, DynamoDB and SSM use it on the account's behalf."""
    root = f"arn:{partition}:iam::{account_id}:root"
    return policies.document(
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": policies.KMS_ACCOUNT,
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchLogsEncryptsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": policies.KMS_USE,
            "Resource": "*",
            "Condition": {
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"}
            },
        },
        {
            "Sid": "AlarmsAndEventsPublishToEncryptedTopics",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        {
            "Sid": "ServicesUseKeyForAccount",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": [*policies.KMS_USE, "kms:CreateGrant"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": account_id,
                    "kms:ViaService": [
                        f"{service}.{region}.amazonaws.com"
                        for service in ("sagemaker", "eks", "s3", "dynamodb", "ssm", "sns", "glue")
                    ],
                }
            },
        },
    )
