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
from mlplatform.access import KMS_ADMIN
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
    # Names of the IAM roles the platform creates for workloads (training jobs, endpoints,
    # monitors): the registry's bucket policy denies them writes and deletes under models/.
    workload_roles: list[str] = field(default_factory=list)
    # Promotion access (mlplatform.access): statements added to the registry's bucket policy,
    # and who administers and uses the key. Empty: the account administers it through IAM.
    registry_statements: list[policies.Statement] = field(default_factory=list)
    key_administrators: list[str] = field(default_factory=list)
    key_users: list[str] = field(default_factory=list)
    key_cross_account: list[policies.Statement] = field(default_factory=list)


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
            policy=key_policy(
                args.account_id,
                args.region,
                args.partition,
                args.key_administrators,
                args.key_users,
                args.key_cross_account,
            ),
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
                access_logs_bucket=self.access_logs.log_target,
                access_logs_prefix=f"{n.registry_bucket(args.account_id)}/",
                noncurrent_days=args.registry_noncurrent_days,
                protect=args.protect,
                policy_statements=[
                    *promoted_versions_immutable(
                        n.registry_bucket(args.account_id), args.workload_roles, args.account_id, args.partition
                    ),
                    *args.registry_statements,
                ],
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

    def training_output_statements(self, cluster: str) -> list[policies.Statement]:
        """Read and write training output under staging/<cluster>/ (nothing else in the registry)
        and use the key for it. `mlplatform register --artifact s3://...` copies a result from
        there into models/; promoted versions stay out of the jobs' reach."""
        prefix = naming.training_output_prefix(cluster)
        output = pulumi.Output.concat(self.registry.arn, "/", prefix, "*")
        return [
            policies.allow(
                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], output, sid="WriteTrainingOutput"
            ),
            policies.allow(
                ["s3:ListBucket"], self.registry.arn, sid="ListTrainingOutput", StringLike={"s3:prefix": [f"{prefix}*"]}
            ),
            policies.allow(policies.KMS_USE, self.key.arn, sid="UsePlatformKey"),
        ]

    def grant_training_output(self, role: aws.iam.Role, cluster: str) -> aws.iam.RolePolicy:
        """Let a training cluster's job role write its output to the registry's staging prefix."""
        return aws.iam.RolePolicy(
            f"{self._name}-training-output-{cluster}",
            role=role.id,
            policy=policies.document(*self.training_output_statements(cluster)),
            opts=pulumi.ResourceOptions(
                parent=self, aliases=[pulumi.Alias(name=f"{self._name}-registry-write-{cluster}")]
            ),
        )


def promoted_versions_immutable(
    bucket: str, workload_roles: list[str], account_id: str, partition: str
) -> list[policies.Statement]:
    """Deny the platform's workload roles any write or delete under models/: a promoted version
    is re-downloaded by SageMaker on every scale-out, so nothing but promotion may change it.

    A Deny on the principals (not a conditional-write requirement for everyone) because S3
    rejects CopyObject into a prefix whose policy enforces If-None-Match, and promotion copies
    server-side ("Enforce conditional writes on Amazon S3 buckets", S3 User Guide)."""
    if not workload_roles:
        return []
    return [
        {
            "Sid": "DenyWorkloadWritesToPromotedVersions",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject"],
            "Resource": f"arn:{partition}:s3:::{bucket}/{naming.REGISTRY_MODELS_PREFIX}*",
            "Condition": {
                "ArnLike": {
                    "aws:PrincipalArn": [f"arn:{partition}:iam::{account_id}:role/{r}" for r in sorted(workload_roles)]
                }
            },
        }
    ]


# What CloudWatch Logs may do with the key, as the CloudWatch Logs User Guide lists it
# ("Encrypt log data in CloudWatch Logs using AWS KMS": kms:Encrypt*, kms:Decrypt*,
# kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe*), spelled out action by action.
LOGS_KEY_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]
# What an AWS service publishing to an encrypted SNS topic needs (SNS Developer Guide, "Enable
# compatibility between event sources from AWS services and encrypted topics":
# kms:GenerateDataKey* and kms:Decrypt); the EventBridge troubleshooting guide names
# kms:Decrypt and kms:GenerateDataKey for events.amazonaws.com.
TOPIC_PUBLISHER_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def key_policy(
    account_id: str,
    region: str,
    partition: str,
    administrators: list[str] | None = None,
    users: list[str] | None = None,
    cross_account: list[policies.Statement] | None = None,
) -> pulumi.Output[str]:
    """The key's policy. Named principals administer it (the key-admin and deployer roles and
    whoever deploys it), with no right to encrypt or decrypt; CloudWatch Logs may encrypt log
    groups of this account; CloudWatch alarms and EventBridge may publish to topics encrypted
    with it; the platform's own roles use it only through SageMaker, EKS, S3, DynamoDB, SSM, SNS
    and Glue; the next environment's promoter, in another account, decrypts through S3.

    The account's root is the principal of the IAM-delegated statements, restricted by
    aws:PrincipalArn: an account principal that IAM lets use KMS cannot use this key directly."""
    root = f"arn:{partition}:iam::{account_id}:root"
    administration: dict[str, object] = {
        "Sid": "NamedPrincipalsAdministerKey",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": KMS_ADMIN,
        "Resource": "*",
    }
    if administrators:
        administration["Condition"] = {"ArnLike": {"aws:PrincipalArn": sorted(administrators)}}
    use_condition: dict[str, object] = {
        "StringEquals": {
            "kms:CallerAccount": account_id,
            "kms:ViaService": [
                f"{service}.{region}.amazonaws.com"
                for service in ("sagemaker", "eks", "s3", "dynamodb", "ssm", "sns", "glue")
            ],
        }
    }
    if users:
        use_condition["ArnLike"] = {"aws:PrincipalArn": sorted(users)}
    return policies.document(
        administration,
        {
            "Sid": "CloudWatchLogsEncryptsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": LOGS_KEY_ACTIONS,
            "Resource": "*",
            "Condition": {
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"}
            },
        },
        {
            "Sid": "AlarmsPublishToEncryptedTopics",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": TOPIC_PUBLISHER_ACTIONS,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        {
            # No aws:SourceAccount / aws:SourceArn here: EventBridge's KMS requests for an
            # encrypted topic do not carry them, so such a condition drops every event.
            "Sid": "EventsPublishToEncryptedTopics",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": TOPIC_PUBLISHER_ACTIONS,
            "Resource": "*",
        },
        {
            "Sid": "PlatformRolesUseKeyThroughServices",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            # CreateFeatureGroup's caller needs CreateGrant and RetireGrant on the online store's key
            # (SageMaker API Reference, OnlineStoreSecurityConfig); EKS and SageMaker create grants too.
            "Action": [*policies.KMS_USE, "kms:CreateGrant", "kms:RetireGrant"],
            "Resource": "*",
            "Condition": use_condition,
        },
        *(cross_account or []),
    )
