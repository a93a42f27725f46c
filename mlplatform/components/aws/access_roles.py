"""Promotion access: the duty roles of one environment, the write-once copy of its ledger, and
the ledger table's resource policy; every document comes from `mlplatform.access`.

- One IAM role per duty (deployer, promoter, approver, reader, key-admin), assumable by the
  principals `mlplatform:access` lists for it (default: the account, so IAM decides), by IAM
  users only under their own name. The deployer builds everything (PowerUserAccess and IAM for
  the platform's own roles) but is denied promotion's writes and approvals.
- The ledger archive: a bucket with S3 Object Lock (COMPLIANCE retention in production,
  GOVERNANCE elsewhere, so non-production copies can be cleaned up by an administrator who is
  allowed to bypass it), whose policy lets each chain be written only by its duty, once, never
  deleted.
- The ledger table's resource-based policy: entries are put only by the promoter and approver
  roles and never updated or deleted, by anyone.
- SSM parameters for the archive bucket and the role ARNs (the approval gate checks that an
  approval was recorded by a session of the approver role).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlplatform import access, naming
from mlplatform.components.aws.buckets import BucketSettings, secure_bucket
from mlplatform.errors import MlplatformError

RETENTION_DAYS_PRODUCTION = 2555  # 7 years
RETENTION_DAYS_OTHER = 30
DEPLOYER_MANAGED_POLICY = "PowerUserAccess"  # everything but IAM and Organizations


@dataclass
class AccessArgs:
    scope: access.Scope
    tags: dict[str, str]
    ledger_table_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    access_logs_bucket: pulumi.Input[str]
    production: bool = False


def scope_from_config(
    config: Mapping[str, object], names: naming.Names, order: list[str], account: str, region: str, partition: str
) -> access.Scope:
    """The Scope of this environment from stack config: `mlplatform:access` (duty -> principals)
    and `mlplatform:accounts` (env -> account, when environments live in several accounts)."""
    principals = _mapping(config.get("access"), "mlplatform:access")
    accounts = _mapping(config.get("accounts"), "mlplatform:accounts")
    env = names.env
    following = order[order.index(env) + 1] if env in order and order.index(env) + 1 < len(order) else None
    next_account = str(accounts.get(following) or account) if following else None
    unknown = sorted(set(principals) - {*naming.ACCESS_DUTIES, "keyAdmin"})
    if unknown:
        raise MlplatformError(
            f"mlplatform:access has unknown duties {', '.join(unknown)}; known: {', '.join(naming.ACCESS_DUTIES)}"
        )
    lists = {
        "key-admin" if duty == "keyAdmin" else duty: _principals(value, f"mlplatform:access.{duty}")
        for duty, value in principals.items()
    }
    both = sorted(set(lists.get("promoter", [])) & set(lists.get("approver", [])))
    if both and _is_production(env):
        raise MlplatformError(
            f"mlplatform:access lists {', '.join(both)} as both promoter and approver of {env}: production needs "
            "two people, one who approves and one who promotes"
        )
    return access.Scope(
        names,
        account,
        region,
        partition,
        next_env=naming.Names(names.platform, following) if following else None,
        next_account=next_account,
        principals=lists,
    )


def _is_production(env: str) -> bool:
    from mlplatform.spec.environments import is_production

    return is_production(env)


def _mapping(value: object, key: str) -> dict[str, object]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise MlplatformError(f"{key} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MlplatformError(f"{key} must be a mapping")
    return {str(k): v for k, v in value.items()}


def _principals(value: object, key: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.startswith("arn:") for v in items):
        raise MlplatformError(f"{key} must be a list of principal ARNs (arn:aws:iam::ACCOUNT:user/NAME, ...)")
    return [str(v) for v in items]


class PromotionAccess(pulumi.ComponentResource):
    roles: dict[str, aws.iam.Role]

    def __init__(self, name: str, args: AccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:PromotionAccess", name, None, opts)
        s, tags = args.scope, args.tags
        child = pulumi.ResourceOptions(parent=self)
        documents = {**access.POLICIES, "key-admin": access.key_admin_policy}
        self.roles = {}
        for duty in naming.ACCESS_DUTIES:
            role = aws.iam.Role(
                f"{name}-{duty}",
                name=s.names.access_role(duty),
                assume_role_policy=json.dumps(access.trust_policy(s, duty), sort_keys=True),
                description=f"mlplatform {s.names.platform} {s.names.env}: {duty}",
                max_session_duration=3600,
                tags=tags,
                opts=child,
            )
            self.roles[duty] = role
            if duty in documents:
                aws.iam.RolePolicy(
                    f"{name}-{duty}-policy",
                    role=role.id,
                    policy=json.dumps(documents[duty](s), sort_keys=True),
                    opts=child,
                )
        deployer = self.roles["deployer"]
        aws.iam.RolePolicyAttachment(
            f"{name}-deployer-power-user",
            role=deployer.name,
            policy_arn=f"arn:{s.partition}:iam::aws:policy/{DEPLOYER_MANAGED_POLICY}",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-deployer-iam",
            role=deployer.id,
            policy=json.dumps(access.deployer_iam_policy(s), sort_keys=True),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-deployer-denies",
            role=deployer.id,
            policy=json.dumps(access.deployer_denies(s), sort_keys=True),
            opts=child,
        )

        archive_name = s.names.ledger_archive_bucket(s.account)
        retention = RETENTION_DAYS_PRODUCTION if args.production else RETENTION_DAYS_OTHER
        self.archive = secure_bucket(
            self,
            f"{name}-ledger-archive",
            BucketSettings(
                bucket_name=archive_name,
                tags=tags,
                kms_key_arn=args.kms_key_arn,
                access_logs_bucket=args.access_logs_bucket,
                access_logs_prefix=f"{archive_name}/",
                noncurrent_days=retention + 1,
                protect=args.production,
                object_lock=True,
                policy_statements=access.archive_statements(s),
            ),
        )
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-ledger-archive-lock",
            bucket=self.archive.bucket.id,
            object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode="COMPLIANCE" if args.production else "GOVERNANCE", days=retention
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.archive.bucket]),
        )
        self.table_policy = aws.dynamodb.ResourcePolicy(
            f"{name}-ledger-policy",
            resource_arn=args.ledger_table_arn,
            policy=json.dumps(access.ledger_table_policy(s), sort_keys=True),
            opts=child,
        )
        values = {naming.SSM_LEDGER_ARCHIVE_BUCKET: archive_name}
        values.update({naming.ssm_access_role_key(duty): s.role(duty) for duty in naming.ACCESS_DUTIES})
        for key, value in values.items():
            aws.ssm.Parameter(
                f"{name}-ssm-{key.replace('/', '-')}",
                name=s.names.ssm_parameter(key),
                type="String",
                insecure_value=value,  # names and ARNs: shown in plans, nothing secret
                description=f"mlplatform discovery: {key}",
                tags=tags,
                opts=child,
            )
        self.register_outputs(
            {
                "roles": {duty: role.arn for duty, role in self.roles.items()},
                "ledger_archive_bucket": self.archive.name,
            }
        )
