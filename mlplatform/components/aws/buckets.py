"""A private S3 bucket with the secure defaults every mlplatform bucket gets.

Used by the platform core (registry, access logs) and by the offline feature store. Each part
is a separate resource, as pulumi-aws v7 models them: encryption, versioning, public access
block, TLS-only policy, access logging and lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from mlplatform.components.aws import policies


@dataclass
class BucketSettings:
    bucket_name: pulumi.Input[str]
    tags: dict[str, str]
    kms_key_arn: pulumi.Input[str] | None  # None: SSE-S3 (AES256)
    versioning: bool = True
    access_logs_bucket: pulumi.Input[str] | None = None  # None: no server access logging
    access_logs_prefix: str = ""
    expire_days: int | None = None  # current objects expire after this many days
    noncurrent_days: int = 90  # old versions kept this long
    extra_rules: list[aws.s3.BucketLifecycleConfigurationRuleArgs] = field(default_factory=list)
    force_destroy: bool = False
    log_delivery_account: str | None = None  # set on the bucket that receives access logs
    protect: bool = False  # the bucket cannot be deleted by `pulumi up` (prod registries)
    policy_statements: list[policies.Statement] = field(default_factory=list)  # beyond TLS-only
    object_lock: bool = False  # S3 Object Lock (set at creation only; retention is configured apart)


@dataclass
class SecureBucket:
    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy
    public_access_block: aws.s3.BucketPublicAccessBlock

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.bucket.arn

    @property
    def name(self) -> pulumi.Output[str]:
        return self.bucket.bucket

    @property
    def log_target(self) -> pulumi.Output[str]:
        """The bucket's name, available once its policy exists: PutBucketLogging checks that the
        logging service may write to the target bucket, so a BucketLogging that names this bucket
        through here waits for the policy that grants it (the URN is known even in a preview)."""
        return pulumi.Output.all(self.bucket.bucket, self.policy.urn).apply(lambda v: str(v[0]))


def secure_bucket(parent: pulumi.Resource, name: str, s: BucketSettings) -> SecureBucket:
    """Create the bucket and its settings as children of `parent`, named `<name>-<part>`."""
    bucket = aws.s3.Bucket(
        name,
        bucket=s.bucket_name,
        force_destroy=s.force_destroy,
        object_lock_enabled=s.object_lock or None,
        tags=s.tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=s.protect),
    )
    after_bucket = pulumi.ResourceOptions(parent=parent, depends_on=[bucket])
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=after_bucket,
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=after_bucket,
    )
    sse = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
        sse_algorithm="aws:kms" if s.kms_key_arn is not None else "AES256",
        kms_master_key_id=s.kms_key_arn,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=sse, bucket_key_enabled=s.kms_key_arn is not None
            )
        ],
        opts=after_bucket,
    )
    if s.versioning:
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=after_bucket,
        )
    policy = aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=bucket.id,
        policy=policies.tls_only(bucket.arn, s.log_delivery_account, s.policy_statements),
        # A bucket policy is rejected as "public" while the public access block is being created.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access_block]),
    )
    if s.access_logs_bucket is not None:
        # Pass the target as `SecureBucket.log_target`, so that this waits for its policy.
        aws.s3.BucketLogging(
            f"{name}-logging",
            bucket=bucket.id,
            target_bucket=s.access_logs_bucket,
            target_prefix=s.access_logs_prefix or pulumi.Output.concat(bucket.bucket, "/"),
            opts=after_bucket,
        )
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-uploads",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=7
            ),
        ),
        *s.extra_rules,
    ]
    if s.expire_days is not None:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-after-retention",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=s.expire_days),
            )
        )
    if s.versioning:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=s.noncurrent_days
                ),
            )
        )
    aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket.id, rules=rules, opts=after_bucket)
    return SecureBucket(bucket, policy, public_access_block)
