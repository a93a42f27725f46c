"""DynamoDB tables, SNS topics and CloudWatch log groups."""

from __future__ import annotations

from mlplatform.plan.model import PlannedResource
from mlplatform.policy.rules import Context, dig, display_name, number, rule, show_number

TABLE = "aws:dynamodb/table:Table"
TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

MIN_LOG_RETENTION_DAYS = 365


@rule("MLP-DDB-001", "error", [TABLE], "Point-in-time recovery on", checkov="CKV_AWS_28")
def dynamodb_pitr(table: PlannedResource, ctx: Context) -> list[str]:
    if dig(table.inputs, "pointInTimeRecovery", "enabled") is True:
        return []
    return [f"table '{display_name(table)}' has no point-in-time recovery: set point_in_time_recovery enabled=True"]


@rule("MLP-DDB-002", "error", [TABLE], "Encrypted with a customer managed KMS key", checkov="CKV_AWS_119")
def dynamodb_kms(table: PlannedResource, ctx: Context) -> list[str]:
    sse = dig(table.inputs, "serverSideEncryption")
    if dig(sse, "enabled") is True and dig(sse, "kmsKeyArn"):
        return []
    return [
        f"table '{display_name(table)}' is not encrypted with a customer managed key: set "
        "server_side_encryption enabled=True with kms_key_arn of the platform key"
    ]


@rule("MLP-SNS-001", "error", [TOPIC], "Encrypted with a KMS key", checkov="CKV_AWS_26")
def sns_kms(topic: PlannedResource, ctx: Context) -> list[str]:
    if topic.inputs.get("kmsMasterKeyId"):
        return []
    return [f"topic '{display_name(topic)}' is not encrypted: set kms_master_key_id to the platform key"]


@rule(
    "MLP-LOG-001",
    "warning",
    [LOG_GROUP],
    f"Retention set, at least {MIN_LOG_RETENTION_DAYS} days",
    checkov="CKV_AWS_338",
)
def log_retention(group: PlannedResource, ctx: Context) -> list[str]:
    days = number(group.inputs.get("retentionInDays"))
    if days is not None and days >= MIN_LOG_RETENTION_DAYS:
        return []
    now = "never expire" if not days else f"are kept {show_number(days)} days"
    return [
        f"log group '{display_name(group)}' logs {now}: set retention_in_days to at least "
        f"{MIN_LOG_RETENTION_DAYS} (MonitoringStack log_retention_days)"
    ]


@rule("MLP-LOG-002", "error", [LOG_GROUP], "Encrypted with a KMS key", checkov="CKV_AWS_158")
def log_kms(group: PlannedResource, ctx: Context) -> list[str]:
    if group.inputs.get("kmsKeyId"):
        return []
    return [f"log group '{display_name(group)}' is not encrypted with a KMS key: set kms_key_id to the platform key"]
