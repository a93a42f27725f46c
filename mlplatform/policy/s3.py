"""S3 buckets. In pulumi-aws v7 a bucket's settings are separate resources that name it in
their `bucket` input, so these rules look for the companion resource in the same plan."""

from __future__ import annotations

from mlplatform.plan.model import PlannedResource
from mlplatform.policy.rules import Context, as_list, dig, policy_document, rule, statements

BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def bucket_name(bucket: PlannedResource) -> str:
    value = bucket.inputs.get("bucket")
    return value if isinstance(value, str) and value else bucket.name


def companions(bucket: PlannedResource, ctx: Context, types: tuple[str, ...]) -> list[PlannedResource]:
    """Resources of `types` that configure `bucket`: by the `bucket` input (the bucket's id,
    which is its name), or, when that is not known yet (a first preview), by dependency."""
    names = {bucket_name(bucket), bucket.name}
    found = []
    for other in ctx.of_type(*types):
        target = other.inputs.get("bucket")
        if isinstance(target, str) and target:
            if target in names:
                found.append(other)
        elif bucket.urn in other.dependencies:
            found.append(other)
    return found


def is_log_target(bucket: PlannedResource, ctx: Context) -> bool:
    """True for the bucket that receives other buckets' server access logs."""
    names = (bucket_name(bucket), bucket.name)
    return any(other.inputs.get("targetBucket") in names for other in ctx.of_type(*LOGGING))


@rule(
    "MLP-S3-001",
    "error",
    [BUCKET],
    "Default encryption with a KMS key (SSE-KMS)",
    checkov="CKV_AWS_145",
    needs_stack=True,
)
def s3_kms(bucket: PlannedResource, ctx: Context) -> list[str]:
    algorithms = {
        dig(item, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        for config in companions(bucket, ctx, ENCRYPTION)
        for item in as_list(config.inputs.get("rules"))
    }
    if algorithms & {"aws:kms", "aws:kms:dsse"}:
        return []
    # S3 delivers server access logs only to buckets encrypted with SSE-S3 (AES256).
    if "AES256" in algorithms and is_log_target(bucket, ctx):
        return []
    return [
        f"bucket '{bucket_name(bucket)}' is not encrypted with a KMS key: add a "
        "BucketServerSideEncryptionConfiguration with sse_algorithm 'aws:kms' and the platform key"
    ]


@rule("MLP-S3-002", "error", [BUCKET], "Versioning enabled", checkov="CKV_AWS_21", needs_stack=True)
def s3_versioning(bucket: PlannedResource, ctx: Context) -> list[str]:
    for config in companions(bucket, ctx, VERSIONING):
        if dig(config.inputs, "versioningConfiguration", "status") == "Enabled":
            return []
    return [f"bucket '{bucket_name(bucket)}' has no versioning: add a BucketVersioning with status 'Enabled'"]


@rule(
    "MLP-S3-003",
    "error",
    [BUCKET],
    "Public access block with all four settings on",
    checkov="CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56",
    needs_stack=True,
)
def s3_public_access_block(bucket: PlannedResource, ctx: Context) -> list[str]:
    blocks = companions(bucket, ctx, PUBLIC_ACCESS_BLOCK)
    if not blocks:
        return [
            f"bucket '{bucket_name(bucket)}' has no public access block: add a BucketPublicAccessBlock "
            f"with {', '.join(PUBLIC_ACCESS_FLAGS)} all true"
        ]
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if not any(b.inputs.get(flag) is True for b in blocks)]
    if off:
        return [f"bucket '{bucket_name(bucket)}' public access block leaves {', '.join(off)} off: set them true"]
    return []


@rule("MLP-S3-004", "error", [BUCKET], "Server access logging", checkov="CKV_AWS_18", needs_stack=True)
def s3_logging(bucket: PlannedResource, ctx: Context) -> list[str]:
    if companions(bucket, ctx, LOGGING):
        return []
    # The bucket that receives access logs does not log to itself (that would loop).
    if is_log_target(bucket, ctx):
        return []
    return [
        f"bucket '{bucket_name(bucket)}' has no server access logging: add a BucketLogging that targets the "
        "platform's access-logs bucket"
    ]


@rule("MLP-S3-005", "error", [BUCKET], "Bucket policy denies requests without TLS", needs_stack=True)
def s3_tls_only(bucket: PlannedResource, ctx: Context) -> list[str]:
    for policy in companions(bucket, ctx, POLICY):
        document = policy_document(policy.inputs.get("policy"))
        if document is None:
            if policy.inputs.get("policy") is None:  # not known yet (preview): cannot tell
                return []
            continue
        if any(_denies_insecure_transport(s) for s in statements(document)):
            return []
    return [
        f"bucket '{bucket_name(bucket)}' allows requests without TLS: add a BucketPolicy statement "
        "that denies s3:* when aws:SecureTransport is false"
    ]


def _denies_insecure_transport(statement: dict[str, object]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    actions = as_list(statement.get("Action"))
    if not any(a in ("s3:*", "*") for a in actions):
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    for operator in ("Bool", "BoolIfExists"):
        value = dig(condition, operator, "aws:SecureTransport")
        if value is not None and str(as_list(value)[0]).lower() == "false":
            return True
    return False
