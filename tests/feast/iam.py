"""Run Feast as a role holding one of the platform's Feast policies.

The local emulator does not enforce IAM, so every AWS call boto3 makes in this process goes
through `guard`: the call is mapped to the IAM action(s) and resource ARN(s) AWS authorises it
against (the Service Authorization Reference's actions for DynamoDB, S3, Athena and Glue; an
SSE-KMS object also needs kms:GenerateDataKey to write and kms:Decrypt to read), evaluated
against the policy document (Allow statements, `*`/`?` wildcards, explicit Deny wins, a statement
with a Condition never matches here), and refused with AWS's own AccessDenied error when not
allowed. Feast then behaves as it would in an account: it goes on where it tolerates a denial
(tagging) and fails where it needs the call. Every call is recorded.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"  # the plan's placeholder account, also moto's default


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    needs: tuple[tuple[str, str], ...]  # (action, resource ARN)
    allowed: bool


@dataclass
class Role:
    """A principal with one policy document; `kms_keys` maps a bucket to the key it encrypts with."""

    document: dict[str, Any]
    kms_keys: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def allows(self, action: str, resource: str) -> bool:
        allowed = False
        for statement in self.document["Statement"]:
            if "Condition" in statement or not _matches(statement, action, resource):
                continue
            if statement["Effect"] == "Deny":
                return False
            allowed = True
        return allowed

    def denied(self) -> list[Call]:
        return [c for c in self.calls if not c.allowed]

    def actions(self) -> set[str]:
        return {action for c in self.calls for action, _ in c.needs}


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(statement: dict[str, Any], action: str, resource: str) -> bool:
    # IAM: action names are case-insensitive, resource ARNs case-sensitive; * and ? are wildcards.
    action_ok = any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(statement["Action"]))
    resource_ok = any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"]))
    return action_ok and resource_ok


def needs(service: str, operation: str, params: dict[str, Any], region: str, role: Role) -> list[tuple[str, str]]:
    """The (action, resource) pairs AWS checks for one API call."""
    if service == "sts" and operation == "GetCallerIdentity":
        return []  # no permission is required (STS API Reference)
    if service == "dynamodb":
        table = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/"
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table + name) for name in params["RequestItems"]]
        if "TableName" in params:
            return [(f"dynamodb:{operation}", table + params["TableName"])]
        if "ResourceArn" in params:
            return [(f"dynamodb:{operation}", params["ResourceArn"])]
    if service == "s3":
        bucket = params.get("Bucket", "")
        objects = f"arn:aws:s3:::{bucket}/{params.get('Key', '')}"
        key = role.kms_keys.get(bucket)
        if operation in ("HeadBucket", "ListObjects", "ListObjectsV2"):
            return [("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
        if operation in ("GetObject", "HeadObject"):
            read = [("s3:GetObject", objects)]
            return read + ([("kms:Decrypt", key)] if key and operation == "GetObject" else [])
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [("s3:PutObject", objects)] + ([("kms:GenerateDataKey", key)] if key else [])
        if operation == "DeleteObject":
            return [("s3:DeleteObject", objects)]
    if service == "athena" and "WorkGroup" in params:
        return [(f"athena:{operation}", f"arn:aws:athena:{region}:{ACCOUNT}:workgroup/{params['WorkGroup']}")]
    raise AssertionError(f"no IAM mapping for {service}:{operation}: add it before Feast may call it")


_ERRORS = {"dynamodb": "AccessDeniedException", "s3": "AccessDenied"}


@contextlib.contextmanager
def guard(role: Role) -> Iterator[Role]:
    """While active, every botocore call in this process runs as `role`."""
    original = BaseClient._make_api_call

    def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        required = needs(service, operation, params, client.meta.region_name or "us-east-1", role)
        allowed = all(role.allows(action, resource) for action, resource in required)
        role.calls.append(Call(service, operation, tuple(required), allowed))
        if not allowed:
            action, resource = next((a, r) for a, r in required if not role.allows(a, r))
            # HEAD responses have no body: S3 reports a denied HeadBucket as code "403".
            code = "403" if operation.startswith("Head") else _ERRORS.get(service, "AccessDeniedException")
            message = f"User: test-role is not authorized to perform: {action} on resource: {resource}"
            error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}
            raise ClientError(error, operation)  # type: ignore[arg-type]
        return original(client, operation, params)

    from aiobotocore.client import AioBaseClient

    original_async = AioBaseClient._make_api_call

    async def async_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        raise AssertionError(f"an unguarded asynchronous AWS call: {operation}")

    BaseClient._make_api_call = call  # type: ignore[method-assign]
    AioBaseClient._make_api_call = async_call  # type: ignore[method-assign]
    try:
        yield role
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        AioBaseClient._make_api_call = original_async  # type: ignore[method-assign]


def role_for(policy_json: str, kms_keys: dict[str, str]) -> Role:
    return Role(json.loads(policy_json), dict(kms_keys))
