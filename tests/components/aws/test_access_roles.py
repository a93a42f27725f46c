"""Promotion enforced by AWS: duty roles, the registry's and the ledger's resource policies, the
write-once ledger copy, the KMS key policy, and the program's own refusal of what was not
promoted. Run under Pulumi's SDK mocks for the example stacks; each test names the documented
rule (AWS developer guide or service authorization reference) the statements rely on.

These are documents, not evaluations: no IAM engine checked them here (see docs/security.md,
"What was verified, and how")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlplatform import access, naming, stack_config
from mlplatform.plan.engine import Captured, run_program
from tests.components.conftest import ROOT, STACKS, Resources, run_stack

ACCOUNT = "123456789012"
CRYPTO = {
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:CreateGrant",
}


def _run(stack: str, **overrides: Any) -> Captured:
    """The program of an example stack, with some stack config replaced."""
    config = stack_config.read(STACKS / f"Pulumi.{stack}.yaml")
    merged = {k: v if isinstance(v, str) else json.dumps(v) for k, v in stack_config.project_defaults(ROOT).items()}
    merged.update(config.as_pulumi_config())
    merged.update({f"mlplatform:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()})
    return run_program(STACKS / "__main__.py", project="mlplatform", stack=stack, config=merged)


@pytest.fixture(scope="module")
def prod() -> Resources:
    return Resources(run_stack("prod"))


@pytest.fixture(scope="module")
def dev() -> Resources:
    return Resources(run_stack("dev"))


def _statements(r: Resources, name: str, key: str = "policy") -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in r.policy(r.named(name), key)["Statement"]}


def _actions(statement: dict[str, Any]) -> set[str]:
    value = statement["Action"]
    return {value} if isinstance(value, str) else set(value)


def test_one_role_per_duty_assumable_only_under_the_callers_own_name(prod: Resources) -> None:
    roles = {r.inputs["name"]: r for r in prod.of_type("aws:iam/role:Role") if r.name.startswith("access-")}
    assert sorted(roles) == sorted(f"fraud-prod-{duty}" for duty in naming.ACCESS_DUTIES)
    for role in roles.values():
        (trust,) = prod.policy(role, "assumeRolePolicy")["Statement"]
        assert trust["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}  # by default IAM decides who
        assert set(trust["Action"]) == {"sts:AssumeRole", "sts:SetSourceIdentity"}
        # IAM User Guide, "sts:RoleSessionName" (with ${aws:username}): an IAM user assumes the
        # role only under their own user name, which the ledger and the approval gate go by.
        assert trust["Condition"] == {"StringLike": {"sts:RoleSessionName": "${aws:username}"}}


# Service Authorization Reference, "Actions, resources, and condition keys for Amazon SageMaker":
# sagemaker:ModelApprovalStatus filters CreateModelPackage and UpdateModelPackage by the status in
# the request. DynamoDB Developer Guide, "Using IAM policy conditions for fine-grained access
# control": dynamodb:LeadingKeys limits the partition key values a principal may write.
def test_the_promoter_cannot_approve_or_record_an_approval(prod: Resources) -> None:
    s = _statements(prod, "access-promoter-policy")
    create = s["CreatePackagesPendingApproval"]
    assert _actions(create) == {"sagemaker:CreateModelPackage"} and create["Effect"] == "Allow"
    assert create["Condition"] == {"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}}
    assert s["NeverApprove"] == {
        "Sid": "NeverApprove",
        "Effect": "Deny",
        "Action": ["sagemaker:UpdateModelPackage"],
        "Resource": "*",
    }
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/fraud-prod-promotion-ledger"
    assert s["AppendPromotionChain"]["Resource"] == table
    assert s["AppendPromotionChain"]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["model#*"]}}
    assert s["NeverRecordApprovals"]["Effect"] == "Deny"
    assert s["NeverRecordApprovals"]["Condition"] == {
        "ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["approval#*"]}
    }
    archive = f"arn:aws:s3:::fraud-prod-ledger-archive-{ACCOUNT}"
    assert s["CopyPromotionChain"]["Resource"] == f"{archive}/ledger/*/promotion/*"
    writes = {a for st in s.values() if st["Effect"] == "Allow" for a in _actions(st)}
    assert "sagemaker:UpdateModelPackage" not in writes and "dynamodb:UpdateItem" not in writes


def test_the_approver_only_approves_or_rejects(prod: Resources) -> None:
    s = _statements(prod, "access-approver-policy")
    approve = s["ApproveOrRejectPackages"]
    assert _actions(approve) == {"sagemaker:UpdateModelPackage"}
    assert approve["Condition"] == {"StringEquals": {"sagemaker:ModelApprovalStatus": ["Approved", "Rejected"]}}
    assert s["AppendApprovalChain"]["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["approval#*"]}
    }
    assert s["NeverWriteModels"]["Effect"] == "Deny"
    assert s["NeverWriteModels"]["Resource"] == f"arn:aws:s3:::fraud-prod-model-registry-{ACCOUNT}/models/*"
    allowed = {a for st in s.values() if st["Effect"] == "Allow" for a in _actions(st)}
    assert "sagemaker:CreateModelPackage" not in allowed
    assert not {a for a in allowed if a.startswith("s3:Put")} - {"s3:PutObject"}


def test_the_reader_writes_nothing_and_the_key_admin_cannot_use_the_key(prod: Resources) -> None:
    reader = prod.policy(prod.named("access-reader-policy"))["Statement"]
    verbs = ("Put", "Update", "Delete", "Create", "BatchWrite")
    assert not [a for st in reader for a in _actions(st) if any(a.split(":")[1].startswith(v) for v in verbs)]
    admin = prod.policy(prod.named("access-key-admin-policy"))["Statement"]
    assert not {a for st in admin for a in _actions(st)} & CRYPTO


def test_the_deployer_builds_but_cannot_promote_or_approve(prod: Resources) -> None:
    attachment = prod.named("access-deployer-power-user")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/PowerUserAccess"
    denies = _statements(prod, "access-deployer-denies")
    assert all(st["Effect"] == "Deny" for st in denies.values())
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= _actions(
        denies["DeployerDoesNotWriteTheLedger"]
    )
    assert _actions(denies["DeployerDoesNotApprove"]) == {
        "sagemaker:CreateModelPackage",
        "sagemaker:UpdateModelPackage",
    }
    iam = _statements(prod, "access-deployer-iam")
    assert iam["ManagePlatformRoles"]["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-*"


# S3 User Guide, "Enforce conditional writes on Amazon S3 buckets": Deny s3:PutObject when
# s3:if-none-match is Null, with s3:ObjectCreationOperation so that CreateMultipartUpload,
# UploadPart and UploadPartCopy (which take no conditional header) still work; CopyObject is then
# refused, which is why promotion copies in UploadPartCopy parts. IAM User Guide, "AWS global
# condition context keys": aws:PrincipalArn is the role's ARN for a role session.
def test_registry_models_are_written_only_by_promotion_once_and_never_deleted(prod: Resources) -> None:
    s = _statements(prod, "core-registry-policy")
    models = f"arn:aws:s3:::fraud-prod-model-registry-{ACCOUNT}/models/*"
    only = s["ModelsWrittenOnlyByPromotion"]
    assert (only["Effect"], only["Principal"], only["Action"], only["Resource"]) == (
        "Deny",
        "*",
        "s3:PutObject",
        models,
    )
    assert only["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-promoter"}
    }
    once = s["ModelsAreWriteOnce"]
    assert once["Condition"] == {"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}}
    assert s["ModelsAreNeverDeleted"]["Action"] == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert "Condition" not in s["ModelsAreNeverDeleted"]
    assert "DenyInsecureTransport" in s and "DenyWorkloadWritesToPromotedVersions" in s


# S3 User Guide, "Locking objects with Object Lock": Object Lock is enabled when the bucket is
# created; a default retention in COMPLIANCE mode cannot be shortened or removed by any user,
# including the root user, while GOVERNANCE can be bypassed with s3:BypassGovernanceRetention.
@pytest.mark.parametrize(("stack", "mode", "days"), [("prod", "COMPLIANCE", 2555), ("dev", "GOVERNANCE", 30)])
def test_the_ledger_copy_is_write_once(stack: str, mode: str, days: int, prod: Resources, dev: Resources) -> None:
    r = prod if stack == "prod" else dev
    bucket = r.named("access-ledger-archive")
    assert bucket.inputs["bucket"] == f"fraud-{stack}-ledger-archive-{ACCOUNT}"
    assert bucket.inputs["objectLockEnabled"] is True
    lock = r.named("access-ledger-archive-lock")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": mode, "days": days}
    assert bucket.urn in lock.dependencies
    assert r.named("access-ledger-archive-versioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    s = _statements(r, "access-ledger-archive-policy")
    archive = f"arn:aws:s3:::fraud-{stack}-ledger-archive-{ACCOUNT}"
    assert s["PromotionChainWrittenOnlyByPromoter"]["Resource"] == f"{archive}/ledger/*/promotion/*"
    assert s["ApprovalChainWrittenOnlyByApprover"]["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/fraud-{stack}-approver"}
    }
    assert s["CopiesAreWriteOnce"]["Condition"] == access.NO_CONDITIONAL_HEADER
    assert "s3:BypassGovernanceRetention" in s["CopiesAreNeverDeleted"]["Action"]


# DynamoDB Developer Guide, "Using resource-based policies for DynamoDB": a table's policy can
# deny actions to every principal of the account, whatever their identity policies allow.
def test_ledger_entries_are_never_updated_or_deleted_by_anyone(prod: Resources) -> None:
    resource = prod.named("access-ledger-policy")
    assert resource.inputs["resourceArn"].endswith(":table/fraud-prod-promotion-ledger")
    assert prod.named("core-ledger").urn in resource.dependencies  # the policy waits for its table
    s = {st["Sid"]: st for st in json.loads(resource.inputs["policy"])["Statement"]}
    never = s["EntriesAreNeverUpdatedOrDeleted"]
    assert never["Principal"] == "*" and "Condition" not in never
    assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= set(never["Action"])
    put = s["EntriesArePutOnlyByPromotion"]
    assert put["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [
                f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-promoter",
                f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-approver",
            ]
        }
    }


# KMS Developer Guide, "Default key policy" and "kms:ViaService": a statement with the account as
# principal delegates to IAM; restricted by aws:PrincipalArn and kms:ViaService, an account
# principal that IAM lets use KMS still cannot use this key directly.
def test_the_key_is_administered_by_named_roles_and_used_only_through_services(prod: Resources) -> None:
    statements = prod.policy(prod.named("core-key"))["Statement"]
    root = f"arn:aws:iam::{ACCOUNT}:root"
    for st in statements:
        if st["Principal"] == {"AWS": root} and _actions(st) & CRYPTO:
            assert "kms:ViaService" in st["Condition"]["StringEquals"], st["Sid"]
            assert "aws:PrincipalArn" in st["Condition"]["ArnLike"], st["Sid"]
    by_sid = {st["Sid"]: st for st in statements}
    admin = by_sid["NamedPrincipalsAdministerKey"]
    assert not _actions(admin) & CRYPTO
    assert admin["Condition"] == {
        "ArnLike": {
            "aws:PrincipalArn": sorted(
                [
                    f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-deployer",
                    f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-key-admin",
                    f"arn:aws:iam::{ACCOUNT}:user/mock-deployer",  # who runs this `pulumi up` (mocked)
                ]
            )
        }
    }
    use = by_sid["PlatformRolesUseKeyThroughServices"]["Condition"]
    assert use["ArnLike"] == {
        "aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-*", f"arn:aws:iam::{ACCOUNT}:user/mock-deployer"]
    }
    assert use["StringEquals"]["kms:CallerAccount"] == ACCOUNT


# SageMaker API Reference, OnlineStoreSecurityConfig: the caller of CreateFeatureGroup needs Encrypt,
# Decrypt, DescribeKey, CreateGrant, RetireGrant, ReEncryptFrom/To, GenerateDataKey, ListAliases,
# ListGrants and RevokeGrant on the online store's key. The deployer is both a key user (through
# SageMaker) and a key administrator; together the two statements grant all eleven.
def test_the_deployer_may_create_a_feature_group_on_the_platform_key(prod: Resources) -> None:
    by_sid = {s["Sid"]: s for s in prod.policy(prod.named("core-key"))["Statement"]}
    use, admin = by_sid["PlatformRolesUseKeyThroughServices"], by_sid["NamedPrincipalsAdministerKey"]
    needed = {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:CreateGrant",
        "kms:RetireGrant",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:ListAliases",
        "kms:ListGrants",
        "kms:RevokeGrant",
    }
    assert needed <= set(use["Action"]) | set(admin["Action"])
    deployer = "arn:aws:iam::123456789012:role/fraud-prod-deployer"
    assert deployer in admin["Condition"]["ArnLike"]["aws:PrincipalArn"]
    assert "sagemaker.us-east-1.amazonaws.com" in use["Condition"]["StringEquals"]["kms:ViaService"]


def test_every_role_the_program_creates_is_covered_by_the_key_use_statement(prod: Resources) -> None:
    names = [r.inputs["name"] for r in prod.of_type("aws:iam/role:Role")]
    assert names and all(n.startswith("fraud-prod-") for n in names), names


# KMS Developer Guide, "Allowing users in other accounts to use a KMS key": the key policy must
# name the other account, and kms:CallerAccount is that account for its principals.
def test_per_account_environments_get_explicit_cross_account_statements() -> None:
    staging = Resources(_run("staging", accounts={"staging": ACCOUNT, "prod": "333333333333"}))
    prod_promoter = "arn:aws:iam::333333333333:role/fraud-prod-promoter"
    reads = _statements(staging, "core-registry-policy")["NextEnvironmentPromoterReadsModels"]
    assert reads["Principal"] == {"AWS": "arn:aws:iam::333333333333:root"}
    assert reads["Condition"] == {"ArnEquals": {"aws:PrincipalArn": prod_promoter}}
    assert reads["Action"] == "s3:GetObject"
    key = {st["Sid"]: st for st in staging.policy(staging.named("core-key"))["Statement"]}
    decrypt = key["NextEnvironmentPromoterDecryptsThroughS3"]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:CallerAccount": "333333333333", "kms:ViaService": ["s3.us-east-1.amazonaws.com"]},
        "ArnEquals": {"aws:PrincipalArn": prod_promoter},
    }
    # one account for all: no cross-account statement at all
    assert "NextEnvironmentPromoterReadsModels" not in _statements(
        Resources(run_stack("staging")), "core-registry-policy"
    )


def test_one_person_cannot_hold_both_duties_in_production() -> None:
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    with pytest.raises(Exception, match="lists arn:aws:iam::123456789012:user/alice as both promoter and approver"):
        _run("prod", access={"promoter": [alice], "approver": [alice]})
    staging = Resources(
        _run("staging", access={"promoter": [alice], "approver": [alice, f"arn:aws:iam::{ACCOUNT}:user/bob"]})
    )
    (trust,) = staging.policy(staging.named("access-approver"), "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"AWS": [alice, f"arn:aws:iam::{ACCOUNT}:user/bob"]}


def test_discovery_parameters_for_the_archive_and_the_roles(prod: Resources) -> None:
    found = {
        r.inputs["name"]: r.inputs["insecureValue"]
        for r in prod.of_type("aws:ssm/parameter:Parameter")
        if r.name.startswith("access-ssm-")
    }
    assert found == {
        "/mlplatform/fraud/prod/ledger-archive-bucket": f"fraud-prod-ledger-archive-{ACCOUNT}",
        **{
            f"/mlplatform/fraud/prod/access/{duty}-role-arn": f"arn:aws:iam::{ACCOUNT}:role/fraud-prod-{duty}"
            for duty in naming.ACCESS_DUTIES
        },
    }


def test_the_program_refuses_model_entries_that_were_not_promoted() -> None:
    models = {
        "fraud-xgb": {
            "version": "5",
            "uri": "s3://attacker-models/models/fraud-xgb/5/model.tar.gz",
            "sha256": "ef" * 32,
            "image": "999999999999.dkr.ecr.us-east-1.amazonaws.com/evil:latest",
            "baseline": "s3://attacker-models/models/fraud-xgb/5/baseline/",
        }
    }
    with pytest.raises(Exception) as raised:
        _run("prod", models=models)
    text = str(raised.value)
    assert "stack 'prod' deploys model versions that were not promoted to prod:" in text
    assert (
        "mlplatform:models.fraud-xgb.uri is s3://attacker-models/models/fraud-xgb/5/model.tar.gz, not version 5's "
        f"artifact in the prod registry (s3://fraud-prod-model-registry-{ACCOUNT}/models/fraud-xgb/5/<file>)"
    ) in text
    assert (
        "mlplatform:models.fraud-xgb.image is 999999999999.dkr.ecr.us-east-1.amazonaws.com/evil:latest, not pinned"
        in text
    )
    # A baseline from elsewhere would point the drift monitor's role at another bucket.
    assert (
        "mlplatform:models.fraud-xgb.baseline is s3://attacker-models/models/fraud-xgb/5/baseline/, not version 5's "
        f"baseline in the prod registry (s3://fraud-prod-model-registry-{ACCOUNT}/models/fraud-xgb/5/baseline/)"
    ) in text
