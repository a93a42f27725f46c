"""PlatformCore: key, buckets, ledger, model package groups, SSM discovery parameters."""

from __future__ import annotations

import json

import pytest

from mlplatform import naming
from mlplatform.components.aws.platform_core import EndpointRecord, PlatformCore, PlatformCoreArgs
from tests.components.aws.helpers import ACCOUNT, REGION, TAGS, names
from tests.components.conftest import Resources, actions, assert_tagged, run

CORE = "mlplatform:aws:PlatformCore"


def _core(protect: bool) -> None:
    PlatformCore(
        "core",
        PlatformCoreArgs(
            names=names("prod" if protect else "dev"),
            tags=TAGS,
            account_id=ACCOUNT,
            region=REGION,
            models=["fraud-xgb"],
            endpoints=[EndpointRecord("scorer", "fraud-xgb", "sagemaker", "fraud-dev-scorer", ["a1", "a2"])],
            protect=protect,
            workload_roles=["fraud-dev-train-jobs", "fraud-dev-scorer-execution"],
        ),
    )


@pytest.fixture(scope="module")
def dev() -> Resources:
    return Resources(run(lambda: _core(False)))


@pytest.fixture(scope="module")
def prod() -> Resources:
    return Resources(run(lambda: _core(True), stack="prod"))


def test_every_child_is_parented_to_the_component_and_named_after_it(dev: Resources) -> None:
    core = dev.component(CORE)
    children = [r for r in dev.all if r is not core]
    assert children and all(r.parent == core.urn for r in children)
    assert all(r.name.startswith("core-") for r in children)


def test_every_taggable_resource_is_tagged(dev: Resources) -> None:
    assert assert_tagged(dev.all, TAGS) >= 12


def test_kms_key_rotates_and_has_the_naming_alias(dev: Resources) -> None:
    key = dev.named("core-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert dev.named("core-key-alias").inputs["name"] == "alias/mlplatform/fraud/dev"


def test_key_policy_allows_the_services_that_use_the_key_without_wildcard_actions(dev: Resources) -> None:
    policy = dev.policy(dev.named("core-key"))
    assert not [a for a in actions(policy) if "*" in a]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["CloudWatchLogsEncryptsLogGroups"]["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert by_sid["AlarmsPublishToEncryptedTopics"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert by_sid["EventsPublishToEncryptedTopics"]["Principal"] == {"Service": "events.amazonaws.com"}
    via = by_sid["PlatformRolesUseKeyThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert {"sagemaker.us-east-1.amazonaws.com", "eks.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com"} <= set(
        via
    )
    assert by_sid["NamedPrincipalsAdministerKey"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


# EventBridge User Guide, "Troubleshooting Amazon EventBridge: My rule runs, but I don't see any
# messages published into my Amazon SNS topic" (scenario 2), and SNS Developer Guide, "Enable
# compatibility between event sources from AWS services and encrypted topics": the key policy lets
# events.amazonaws.com kms:Decrypt and kms:GenerateDataKey with no aws:SourceAccount/SourceArn.
def test_key_policy_lets_eventbridge_publish_to_encrypted_topics_without_source_conditions(dev: Resources) -> None:
    statements = dev.policy(dev.named("core-key"))["Statement"]
    events = [s for s in statements if "events.amazonaws.com" in str(s.get("Principal"))]
    assert len(events) == 1
    assert events[0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(events[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert "Condition" not in events[0]


# CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS", step 2: the key
# policy grants logs.<region>.amazonaws.com kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*,
# kms:GenerateDataKey*, kms:Describe* under an aws:logs:arn encryption-context condition.
def test_key_policy_gives_cloudwatch_logs_its_documented_action_set(dev: Resources) -> None:
    by_sid = {s["Sid"]: s for s in dev.policy(dev.named("core-key"))["Statement"]}
    logs = by_sid["CloudWatchLogsEncryptsLogGroups"]
    documented = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt", "kms:GenerateDataKey", "kms:Describe")
    granted = set(logs["Action"])
    assert all(any(a.startswith(p) for p in documented) for a in granted)
    # Every key action each documented wildcard stands for is spelled out.
    assert granted == {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:DescribeKey",
    }
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:*"}
    }


# S3 API Reference, PutBucketLogging, and S3 User Guide "Permissions for log delivery": the target
# bucket's policy must let logging.s3.amazonaws.com write before logging is enabled (the provider
# retries only NoSuchBucket), so each BucketLogging depends on the target's BucketPolicy.
def test_access_logging_waits_for_the_log_bucket_policy(dev: Resources) -> None:
    target_policy = dev.named("core-access-logs-policy")
    logging = dev.named("core-registry-logging")
    assert target_policy.urn in logging.dependencies
    assert logging.inputs["targetBucket"] == f"fraud-dev-access-logs-{ACCOUNT}"


def test_registry_bucket_has_every_secure_default(dev: Resources) -> None:
    bucket = dev.named("core-registry")
    assert bucket.inputs["bucket"] == f"fraud-dev-model-registry-{ACCOUNT}"
    sse = dev.named("core-registry-encryption").inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert sse["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    assert dev.named("core-registry-versioning").inputs["versioningConfiguration"] == {"status": "Enabled"}
    block = dev.named("core-registry-public-access").inputs
    assert all(
        block[f] is True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    deny = dev.policy(dev.named("core-registry-policy"))["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    logging = dev.named("core-registry-logging").inputs
    assert logging["targetBucket"] == f"fraud-dev-access-logs-{ACCOUNT}"
    rules = {r["id"] for r in dev.named("core-registry-lifecycle").inputs["rules"]}
    assert {"expire-stale-locks", "abort-incomplete-uploads", "expire-noncurrent-versions"} <= rules


def test_access_logs_bucket_uses_sse_s3_and_accepts_log_delivery(dev: Resources) -> None:
    sse = dev.named("core-access-logs-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse["sseAlgorithm"] == "AES256"  # S3 delivers access logs only to SSE-S3 buckets
    sids = [s.get("Sid") for s in dev.policy(dev.named("core-access-logs-policy"))["Statement"]]
    assert sids == ["DenyInsecureTransport", "AllowServerAccessLogDelivery"]


def test_ledger_table_schema_billing_pitr_and_kms(dev: Resources) -> None:
    table = dev.named("core-ledger").inputs
    assert table["name"] == "fraud-dev-promotion-ledger"
    assert (table["hashKey"], table["rangeKey"]) == (naming.LEDGER_PARTITION_KEY, naming.LEDGER_SORT_KEY)
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"]["enabled"] is True
    assert table["serverSideEncryption"]["kmsKeyArn"].startswith("arn:aws:kms:")


def test_ssm_parameters_publish_every_discovery_key(dev: Resources) -> None:
    params = {r.inputs["name"]: r.inputs["insecureValue"] for r in dev.of_type("aws:ssm/parameter:Parameter")}
    prefix = names().ssm_prefix()
    for key in (
        naming.SSM_REGISTRY_BUCKET,
        naming.SSM_LEDGER_TABLE,
        naming.SSM_KMS_KEY_ARN,
        naming.SSM_ACCOUNT_ID,
        naming.SSM_REGION,
    ):
        assert f"{prefix}/{key}" in params
    assert params[f"{prefix}/{naming.SSM_REGISTRY_BUCKET}"] == f"fraud-dev-model-registry-{ACCOUNT}"
    assert params[f"{prefix}/{naming.SSM_REGION}"] == REGION
    assert params[f"{prefix}/{naming.ssm_model_package_group_key('fraud-xgb')}"] == "fraud-dev-fraud-xgb"
    endpoint = json.loads(params[f"{prefix}/{naming.ssm_endpoint_key('scorer')}"])
    assert endpoint == {"name": "fraud-dev-scorer", "model": "fraud-xgb", "target": "sagemaker", "alarms": ["a1", "a2"]}


def test_model_package_group_per_model(dev: Resources) -> None:
    group = dev.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert group.inputs["modelPackageGroupName"] == names().model_package_group("fraud-xgb")


# Pulumi docs, resource option "protect": a protected resource cannot be deleted by `pulumi up` or
# `pulumi destroy`; the README promises it for the prod key, registry bucket and ledger.
def test_prod_protects_key_registry_and_ledger(prod: Resources, dev: Resources) -> None:
    assert prod.named("core-key").protect and prod.named("core-ledger").protect
    assert prod.named("core-registry").protect
    assert prod.named("core-ledger").inputs["deletionProtectionEnabled"] is True
    assert not dev.named("core-key").protect and not dev.named("core-registry").protect


# S3 User Guide, "Bucket policy examples": an explicit Deny with aws:PrincipalArn overrides any
# Allow; promoted versions under models/ are re-downloaded by SageMaker on scale-out, so the
# platform's workload roles may not write or delete there.
def test_registry_policy_denies_workload_roles_writes_to_promoted_versions(dev: Resources) -> None:
    statements = dev.policy(dev.named("core-registry-policy"))["Statement"]
    deny = next(s for s in statements if s.get("Sid") == "DenyWorkloadWritesToPromotedVersions")
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert set(deny["Action"]) == {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert deny["Resource"] == f"arn:aws:s3:::fraud-dev-model-registry-{ACCOUNT}/models/*"
    assert deny["Condition"]["ArnLike"]["aws:PrincipalArn"] == [
        f"arn:aws:iam::{ACCOUNT}:role/fraud-dev-scorer-execution",
        f"arn:aws:iam::{ACCOUNT}:role/fraud-dev-train-jobs",
    ]
