"""IAM and resource policy documents, built as JSON text so that a plan shows the real policy.

`aws.iam.get_policy_document` would be an invoke that SDK mocks answer with nothing; building
the JSON here keeps every statement visible in `mlplatform plan`. Actions are always named in
full (no `*` in an action): least privilege is reviewable only when it is spelled out.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

Statement = dict[str, Any]

# Data-key actions a service or role needs to read and write data encrypted with the key.
KMS_USE = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]

def allow(actions: list[str], resources: Any, sid: str | None = None, **condition: Any) -> Statement:
    """An Allow statement; `condition` maps operators to {key: value}."""
    statement: Statement = {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}
    if sid:
        statement["Sid"] = sid
    if condition:
        statement["Condition"] = condition
    return statement


def document(*statements: Statement | None) -> pulumi.Output[str]:
    """A policy document as JSON text; `None` statements (switched off) are left out."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [s for s in statements if s]})


def assume_role(service: str, account_id: str | None = None) -> pulumi.Output[str]:
    """Trust policy for an AWS service; with `account_id`, only on behalf of this account
    (aws:SourceAccount guards against the confused-deputy problem)."""
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if account_id:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return document(statement)


def service_role(
    resource_name: str,
    role_name: str,
    service: str,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    account_id: str | None = None,
) -> aws.iam.Role:
    """An IAM role an AWS service assumes (see `assume_role`), named and tagged like the rest."""
    return aws.iam.Role(
        resource_name,
        name=role_name,
        assume_role_policy=assume_role(service, account_id),
        tags=tags,
        opts=opts,
    )


def tls_only(
    bucket_arn: pulumi.Input[str],
    log_delivery_account: str | None = None,
    extra: list[Statement] | None = None,
) -> pulumi.Output[str]:
    """Bucket policy denying every request not made over TLS (a Deny on `s3:*` is the standard
    guard and grants nothing). With `log_delivery_account`, S3 server access logs of that
    account's buckets may be written here (the bucket enforces owner, so no ACLs). `extra`
    statements follow (e.g. the registry's deny of writes to promoted versions)."""
    objects = pulumi.Output.concat(bucket_arn, "/*")
    deny: Statement = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, objects],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    logs: Statement | None = None
    if log_delivery_account:
        logs = {
            "Sid": "AllowServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {"StringEquals": {"aws:SourceAccount": log_delivery_account}},
        }
    return document(deny, logs, *(extra or []))


# The network-interface actions SageMaker needs for a model, processing or training job in a VPC
# (SageMaker Developer Guide, "SageMaker AI Roles": CreateModel / CreateProcessingJob API
# execution role permissions). On "*" and without conditions: SageMaker validates the role's
# policy and rejects conditions or resource filters on these.
VPC_NETWORK_INTERFACE_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]


def vpc_network_interfaces() -> Statement:
    return allow(VPC_NETWORK_INTERFACE_ACTIONS, "*", sid="AttachToPlatformVpc")


def kms_use(key_arn: pulumi.Input[str] | None) -> Statement | None:
    """Use of the platform key by a role; None when the component opted out of KMS."""
    return allow(KMS_USE, key_arn, sid="UsePlatformKey") if key_arn is not None else None


def kms_grant(key_arn: pulumi.Input[str] | None) -> Statement | None:
    """Grants on the key, only for AWS resources (volumes of SageMaker instances, EKS secrets)."""
    if key_arn is None:
        return None
    return allow(["kms:CreateGrant"], key_arn, sid="GrantForAwsResources", Bool={"kms:GrantIsForAWSResource": "true"})
