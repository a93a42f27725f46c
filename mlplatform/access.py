"""Who may do what, as IAM and resource policy documents: the enforcement half of promotion.

One module builds every document, as plain JSON-able dicts from names (every ARN is derived
from `naming`), so the Pulumi components (`components/aws/access_roles.py`, the platform core)
deploy exactly what the sandbox applies to the local emulator and what the tests assert.

Duties, per environment (naming.ACCESS_DUTIES), each an IAM role:
- deployer: CI running `pulumi up`. Builds everything; may not promote, approve or write the
  ledger (explicit denies).
- promoter: registers (outside production), promotes, rolls back: writes registry models/ and
  locks/, the `promotion` chain of the ledger and its write-once copies; creates model packages
  only as PendingManualApproval; never changes an approval status.
- approver: approves or rejects: changes a package's approval status (to Approved or Rejected
  only) and writes the `approval` chain; cannot write the registry.
- reader: history and status: reads the registry's manifests, the ledger and its copies.
- key-admin: administers the platform KMS key; cannot use it to encrypt or decrypt.

Resource policies make the split hold for every principal of the account, not only for these
roles: registry models/ and the ledger are writable only by promotion, never overwritten, never
deleted (bucket policy, table resource policy, S3 Object Lock on the copies).

Documented rules the statements rely on (the tests name them too):
- S3 "Enforce conditional writes": Deny s3:PutObject when `s3:if-none-match` is Null, with
  `s3:ObjectCreationOperation` so multipart parts still work; CopyObject then fails, so
  promotion copies with UploadPartCopy parts.
- S3 actions: multipart uploads and UploadPartCopy are authorized as s3:PutObject; ListObjectVersions
  as s3:ListBucketVersions; GetObject with a version id as s3:GetObjectVersion.
- DynamoDB fine-grained access: `dynamodb:LeadingKeys` limits the partition keys a principal
  may write (promotion#... vs approval#... chains).
- SageMaker: `sagemaker:ModelApprovalStatus` on CreateModelPackage and UpdateModelPackage.
- KMS: `kms:ViaService`, `kms:CallerAccount`, `kms:ResourceAliases`.
- IAM: `aws:PrincipalArn` is the role ARN for a role session; `sts:RoleSessionName` with
  `${aws:username}` makes IAM users assume a role under their own name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlplatform import naming

Statement = dict[str, Any]
Document = dict[str, Any]

NO_CONDITIONAL_HEADER = {"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}}
PENDING = "PendingManualApproval"


@dataclass(frozen=True)
class Scope:
    """Where one environment's resources are: enough to write every ARN its policies name."""

    names: naming.Names
    account: str
    region: str
    partition: str = "aws"
    # The next environment in promotion order when it lives in another account: its promoter
    # reads this registry (server-side copy) and decrypts through S3 with this key.
    next_env: naming.Names | None = None
    next_account: str | None = None
    principals: dict[str, list[str]] = field(default_factory=dict)  # duty -> who may assume it
    # Registration steps of TrainingPipelines (role ARNs) that register as the promoter, here in
    # the first environment of the promotion order, under a session named pipeline-<name>.
    registrars: tuple[str, ...] = ()

    # --- ARNs ------------------------------------------------------------------------------
    def role(self, duty: str, names: naming.Names | None = None, account: str | None = None) -> str:
        return f"arn:{self.partition}:iam::{account or self.account}:role/{(names or self.names).access_role(duty)}"

    @property
    def root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"

    @property
    def registry(self) -> str:
        return f"arn:{self.partition}:s3:::{self.names.registry_bucket(self.account)}"

    @property
    def archive(self) -> str:
        return f"arn:{self.partition}:s3:::{self.names.ledger_archive_bucket(self.account)}"

    @property
    def table(self) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{self.names.ledger_table()}"

    @property
    def platform_registries(self) -> str:
        """Registry buckets of every environment of this platform (promotion reads the source's)."""
        return f"arn:{self.partition}:s3:::{self.names.platform}-*-model-registry-*"

    def _sagemaker(self, kind: str) -> str:
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:{kind}/{self.names.prefix}-*"

    @property
    def parameters(self) -> str:
        return f"arn:{self.partition}:ssm:{self.region}:{self.account}:parameter{self.names.ssm_prefix()}/*"

    @property
    def alarms(self) -> str:
        return f"arn:{self.partition}:cloudwatch:{self.region}:{self.account}:alarm:{self.names.prefix}-*"

    @property
    def keys(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:key/*"

    def via(self, *services: str) -> list[str]:
        return [f"{s}.{self.region}.amazonaws.com" for s in services]


def statement(sid: str, effect: str, actions: list[str], resources: Any, **condition: Any) -> Statement:
    s: Statement = {"Sid": sid, "Effect": effect, "Action": sorted(set(actions)), "Resource": resources}
    if condition:
        s["Condition"] = condition
    return s


def document(*statements: Statement | None) -> Document:
    return {"Version": "2012-10-17", "Statement": [s for s in statements if s]}


# --- identity policies of the duties ----------------------------------------------------------
def _reads(s: Scope, models_only: bool = False) -> list[Statement]:
    """What every duty that touches promotion reads: manifests, the ledger, its copies, discovery."""
    registry_objects = [f"{s.registry}/{naming.REGISTRY_MODELS_PREFIX}*"]
    if not models_only:
        registry_objects.append(f"{s.registry}/{naming.REGISTRY_LOCKS_PREFIX}*")
    return [
        statement("ReadRegistry", "Allow", ["s3:GetObject"], registry_objects),
        statement(
            "ListRegistry",
            "Allow",
            ["s3:ListBucket"],
            s.registry,
            StringLike={"s3:prefix": [naming.REGISTRY_MODELS_PREFIX + "*", naming.REGISTRY_LOCKS_PREFIX + "*"]},
        ),
        statement("ReadLedger", "Allow", ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query"], s.table),
        statement(
            "ReadLedgerCopies",
            "Allow",
            ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"],
            [s.archive, f"{s.archive}/*"],
        ),
        statement("ReadDiscovery", "Allow", ["ssm:GetParameter", "ssm:GetParameters"], s.parameters),
        statement(
            "ReadModelPackages",
            "Allow",
            ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"],
            [s._sagemaker("model-package"), s._sagemaker("model-package-group")],
        ),
        statement("ReadAlarms", "Allow", ["cloudwatch:DescribeAlarms"], s.alarms),
        statement(
            "UseKeyThroughStorage",
            "Allow",
            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
            s.keys,
            StringEquals={"kms:ViaService": s.via("s3", "dynamodb")},
            **{"ForAnyValue:StringEquals": {"kms:ResourceAliases": [s.names.kms_alias()]}},
        ),
    ]


def promoter_policy(s: Scope) -> Document:
    models = f"{s.registry}/{naming.REGISTRY_MODELS_PREFIX}*"
    return document(
        *_reads(s),
        statement(
            "ReadSourceRegistries",
            "Allow",
            ["s3:GetObject"],
            f"{s.platform_registries}/{naming.REGISTRY_MODELS_PREFIX}*",
        ),
        statement(
            "UseSourceKeysThroughS3",
            "Allow",
            ["kms:Decrypt"],
            f"arn:{s.partition}:kms:*:*:key/*",
            StringLike={"kms:ViaService": "s3.*.amazonaws.com"},
            **{"ForAnyValue:StringLike": {"kms:ResourceAliases": [f"alias/mlplatform/{s.names.platform}/*"]}},
        ),
        # What a TrainingPipeline run trained, in any environment's registry: registration adopts
        # it with a server-side copy, as `register --artifact s3://...` does.
        statement(
            "ReadPipelineOutput",
            "Allow",
            ["s3:GetObject"],
            f"{s.platform_registries}/{naming.REGISTRY_STAGING_PREFIX}pipelines/*",
        ),
        statement("WriteModels", "Allow", ["s3:AbortMultipartUpload", "s3:PutObject"], models),
        statement(
            "HoldLocks",
            "Allow",
            ["s3:DeleteObject", "s3:PutObject"],
            f"{s.registry}/{naming.REGISTRY_LOCKS_PREFIX}*",
        ),
        statement(
            "AppendPromotionChain",
            "Allow",
            ["dynamodb:PutItem"],
            s.table,
            **{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [naming.ledger_partition("*")]}},
        ),
        statement(
            "CopyPromotionChain",
            "Allow",
            ["s3:PutObject"],
            f"{s.archive}/{naming.LEDGER_ARCHIVE_PREFIX}*/promotion/*",
        ),
        statement(
            "CreatePackagesPendingApproval",
            "Allow",
            ["sagemaker:CreateModelPackage"],
            [s._sagemaker("model-package"), s._sagemaker("model-package-group")],
            StringEquals={"sagemaker:ModelApprovalStatus": PENDING},
        ),
        statement("NeverApprove", "Deny", ["sagemaker:UpdateModelPackage"], "*"),
        statement(
            "NeverRecordApprovals",
            "Deny",
            ["dynamodb:PutItem"],
            s.table,
            **{"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": [naming.ledger_approval_partition("*")]}},
        ),
    )


def approver_policy(s: Scope) -> Document:
    return document(
        *_reads(s, models_only=True),
        statement(
            "ApproveOrRejectPackages",
            "Allow",
            ["sagemaker:UpdateModelPackage"],
            s._sagemaker("model-package"),
            StringEquals={"sagemaker:ModelApprovalStatus": ["Approved", "Rejected"]},
        ),
        statement(
            "AppendApprovalChain",
            "Allow",
            ["dynamodb:PutItem"],
            s.table,
            **{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [naming.ledger_approval_partition("*")]}},
        ),
        statement(
            "CopyApprovalChain", "Allow", ["s3:PutObject"], f"{s.archive}/{naming.LEDGER_ARCHIVE_PREFIX}*/approval/*"
        ),
        statement("NeverWriteModels", "Deny", ["s3:PutObject"], f"{s.registry}/{naming.REGISTRY_MODELS_PREFIX}*"),
        statement("NeverCreatePackages", "Deny", ["sagemaker:CreateModelPackage"], "*"),
    )


def reader_policy(s: Scope) -> Document:
    return document(*_reads(s))


def deployer_denies(s: Scope) -> Document:
    """What CI may not do although it builds everything: promote, approve, write the ledger."""
    return document(
        statement(
            "DeployerDoesNotPromote",
            "Deny",
            ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            [f"{s.registry}/{naming.REGISTRY_MODELS_PREFIX}*", f"{s.archive}/*"],
        ),
        statement(
            "DeployerDoesNotWriteTheLedger",
            "Deny",
            ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            s.table,
        ),
        statement(
            "DeployerDoesNotApprove", "Deny", ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"], "*"
        ),
    )


def deployer_iam_policy(s: Scope) -> Document:
    """IAM for `pulumi up` (PowerUserAccess has none): the platform's own roles, the EKS OIDC
    provider for IRSA, and the service-linked roles services create on first use."""
    roles = f"arn:{s.partition}:iam::{s.account}:role/{s.names.prefix}-*"
    return document(
        statement(
            "ManagePlatformRoles",
            "Allow",
            [
                "iam:AttachRolePolicy",
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRolePolicies",
                "iam:ListRoleTags",
                "iam:PassRole",
                "iam:PutRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ],
            roles,
        ),
        statement(
            "ManageClusterIdentityProviders",
            "Allow",
            [
                "iam:AddClientIDToOpenIDConnectProvider",
                "iam:CreateOpenIDConnectProvider",
                "iam:DeleteOpenIDConnectProvider",
                "iam:GetOpenIDConnectProvider",
                "iam:TagOpenIDConnectProvider",
                "iam:UpdateOpenIDConnectProviderThumbprint",
            ],
            f"arn:{s.partition}:iam::{s.account}:oidc-provider/*",
        ),
        statement(
            "CreateServiceLinkedRoles",
            "Allow",
            ["iam:CreateServiceLinkedRole"],
            f"arn:{s.partition}:iam::{s.account}:role/aws-service-role/*",
        ),
    )


# Key administration: everything but using the key and handing out grants.
KMS_ADMIN = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]


def key_admin_policy(s: Scope) -> Document:
    return document(
        statement(
            "AdministerPlatformKey",
            "Allow",
            KMS_ADMIN,
            s.keys,
            **{"ForAnyValue:StringEquals": {"kms:ResourceAliases": [s.names.kms_alias()]}},
        ),
    )


def principal_variants(arn: str) -> list[str]:
    """How a principal appears in `aws:PrincipalArn`: a role session's ARN becomes its role's
    (with or without a path, which a session ARN does not show); users and roles as they are."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        base = f"arn:{parts[1]}:iam::{parts[4]}:role"
        return [f"{base}/{role}", f"{base}/*/{role}"]
    return [arn]


def key_administrators(s: Scope, deploying: str | None = None) -> list[str]:
    """Who administers the platform key: the key-admin and deployer roles, and the principal
    running this `pulumi up` (which must keep managing the key it deploys)."""
    found = [s.role("key-admin"), s.role("deployer"), *(principal_variants(deploying) if deploying else [])]
    return sorted(set(found))


def key_users(s: Scope, deploying: str | None = None) -> list[str]:
    """Who may use the key through AWS services: the platform's own roles (every role it
    creates is named <platform>-<env>-...), and the principal deploying it."""
    own = [f"arn:{s.partition}:iam::{s.account}:role/{s.names.prefix}-*"]
    return sorted({*own, *(principal_variants(deploying) if deploying else [])})


def key_cross_account(s: Scope) -> list[Statement]:
    """For environments in separate accounts: the next environment's promoter decrypts this
    registry's artifacts through S3 while copying them (its requests carry its own account as
    kms:CallerAccount, which the account's own statement would refuse)."""
    if s.next_env is None or not s.next_account or s.next_account == s.account:
        return []
    return [
        {
            "Sid": "NextEnvironmentPromoterDecryptsThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{s.partition}:iam::{s.next_account}:root"},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": s.next_account, "kms:ViaService": s.via("s3")},
                "ArnEquals": {"aws:PrincipalArn": s.role("promoter", s.next_env, s.next_account)},
            },
        }
    ]


def trust_policy(s: Scope, duty: str) -> Document:
    """Who may assume a duty's role: the principals configured for it (by default the account,
    so that IAM policies decide), and IAM users only under their own user name, which is how
    the ledger tells people apart ("sts:RoleSessionName" with "${aws:username}")."""
    principals = s.principals.get(duty) or [s.root]
    pipelines: Statement | None = None
    if duty == "promoter" and s.registrars:
        # The account as principal and the roles in a condition, as for the next environment's
        # promoter: a trust policy naming a role that does not exist yet is rejected by IAM.
        pipelines = {
            "Sid": "PipelinesRegister",
            "Effect": "Allow",
            "Principal": {"AWS": s.root},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": sorted(s.registrars)},
                "StringLike": {"sts:RoleSessionName": f"{naming.PIPELINE_SESSION_PREFIX}*"},
            },
        }
    return document(
        {
            "Sid": "AssumeUnderOwnName",
            "Effect": "Allow",
            "Principal": {"AWS": sorted(principals)},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {"StringLike": {"sts:RoleSessionName": "${aws:username}"}},
        },
        pipelines,
    )


# --- resource policies ------------------------------------------------------------------------
def registry_statements(s: Scope) -> list[Statement]:
    """Added to the registry's TLS-only bucket policy: models/ is written only by the promoter
    role, only with If-None-Match (never overwritten), and never deleted."""
    models = f"{s.registry}/{naming.REGISTRY_MODELS_PREFIX}*"
    found: list[Statement] = [
        {
            "Sid": "ModelsWrittenOnlyByPromotion",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": models,
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": s.role("promoter")}},
        },
        {
            "Sid": "ModelsAreWriteOnce",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": models,
            "Condition": NO_CONDITIONAL_HEADER,
        },
        {
            "Sid": "ModelsAreNeverDeleted",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": models,
        },
    ]
    if s.next_env is not None and s.next_account and s.next_account != s.account:
        found.append(
            {
                # The account as principal and the role in a condition: S3 rejects a policy naming
                # a role that does not exist yet, and the next environment may be deployed later.
                "Sid": "NextEnvironmentPromoterReadsModels",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{s.partition}:iam::{s.next_account}:root"},
                "Action": "s3:GetObject",
                "Resource": models,
                "Condition": {"ArnEquals": {"aws:PrincipalArn": s.role("promoter", s.next_env, s.next_account)}},
            }
        )
    return found


def archive_statements(s: Scope) -> list[Statement]:
    """Added to the write-once ledger bucket's TLS-only policy: each chain's copies are written
    only by its duty's role, once, and never deleted (Object Lock also retains every version)."""
    ledger = f"{s.archive}/{naming.LEDGER_ARCHIVE_PREFIX}"
    return [
        {
            "Sid": "PromotionChainWrittenOnlyByPromoter",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{ledger}*/promotion/*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": s.role("promoter")}},
        },
        {
            "Sid": "ApprovalChainWrittenOnlyByApprover",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{ledger}*/approval/*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": s.role("approver")}},
        },
        {
            "Sid": "CopiesAreWriteOnce",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{s.archive}/*",
            "Condition": NO_CONDITIONAL_HEADER,
        },
        {
            "Sid": "CopiesAreNeverDeleted",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": f"{s.archive}/*",
        },
    ]


def ledger_table_policy(s: Scope) -> Document:
    """The ledger table's resource-based policy: entries are only ever put, by the promoter and
    approver roles; nobody updates or deletes one (the chains' own checks catch an overwrite)."""
    return document(
        {
            "Sid": "EntriesAreNeverUpdatedOrDeleted",
            "Effect": "Deny",
            "Principal": "*",
            "Action": [
                "dynamodb:BatchWriteItem",
                "dynamodb:DeleteItem",
                "dynamodb:PartiQLDelete",
                "dynamodb:PartiQLUpdate",
                "dynamodb:UpdateItem",
            ],
            "Resource": s.table,
        },
        {
            "Sid": "EntriesArePutOnlyByPromotion",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["dynamodb:PartiQLInsert", "dynamodb:PutItem"],
            "Resource": s.table,
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [s.role("promoter"), s.role("approver")]}},
        },
    )


POLICIES = {"promoter": promoter_policy, "approver": approver_policy, "reader": reader_policy}
