"""Create in the local emulator exactly what the plan creates for one FeatureStore.

Each planned resource under the FeatureStore component is turned into the AWS API calls the
provider makes for it, with the inputs the plan registered (camelCase wire names), not a hand
copy. The platform's KMS key is created first, and the plan's key ARN is mapped to it. A
resource type with no translation here fails the test; the few that Feast never touches are
skipped by name, each with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlplatform.plan.model import Plan, PlannedResource

# Planned types outside what Feast runs against, and why they are not created here.
SKIPPED = {
    "aws:s3/bucketLogging:BucketLogging": "its target is the core's access-log bucket; Feast never reads logs",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "attaches a policy to a role of another component",
    "aws:iam/role:Role": "the SageMaker Feature Groups' service role",
    "aws:iam/rolePolicy:RolePolicy": "the SageMaker Feature Groups' service role's policy",
    "aws:sagemaker/featureGroup:FeatureGroup": "SageMaker Feature Groups are not Feast's",
    # moto evaluates a Deny's Condition without the request's context, so the TLS-only statement
    # (aws:SecureTransport false) denies every object request; the guardrail MLP-S3-005 and the
    # component tests check that policy. Feast's S3 clients use HTTPS against AWS by default.
    "aws:s3/bucketPolicy:BucketPolicy": "moto cannot evaluate the TLS-only condition (see above)",
}


@dataclass
class Created:
    key_arn: str  # the emulator's key standing in for the platform key
    planned_key_arn: str
    tables: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    policies: dict[str, str] = field(default_factory=dict)  # policy name -> document (JSON text)
    skipped: list[str] = field(default_factory=list)


def component_children(plan: Plan, component_type: str, name: str) -> list[PlannedResource]:
    (component,) = [r for r in plan.resources if r.type == component_type and r.name == name]
    return [r for r in plan.resources if r.parent == component.urn]


def create(plan: Plan, children: list[PlannedResource], client: Callable[[str], Any]) -> Created:
    """Create `children` (resources of one FeatureStore in `plan`) with boto3 clients from `client`."""
    # The platform key, as the plan refers to it: the key the offline bucket encrypts with.
    (encryption,) = [r for r in children if r.type.endswith(":BucketServerSideEncryptionConfiguration")]
    planned_key = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    created = Created(key_arn="", planned_key_arn=planned_key)
    created.key_arn = client("kms").create_key(Description="the platform key")["KeyMetadata"]["Arn"]

    def kms(value: Any) -> Any:
        return created.key_arn if value == planned_key else value

    order = {"aws:s3/bucket:Bucket": 0}  # buckets before their settings
    for r in sorted(children, key=lambda r: order.get(r.type, 1)):
        if r.type in SKIPPED:
            created.skipped.append(r.name)
            continue
        apply = _APPLY.get(r.type)
        assert apply is not None, f"{r.type} ({r.name}) is planned for the FeatureStore but not created here"
        apply(r.inputs, client, kms, created)
    return created


def _tags(tags: dict[str, str] | None, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in (tags or {}).items()]


def _bucket(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    s3 = client("s3")
    region = s3.meta.region_name
    where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=i["bucket"], **where)
    s3.put_bucket_tagging(Bucket=i["bucket"], Tagging={"TagSet": _tags(i.get("tags"))})
    c.buckets.append(i["bucket"])


def _ownership(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    rule = i["rule"]
    client("s3").put_bucket_ownership_controls(
        Bucket=i["bucket"], OwnershipControls={"Rules": [{"ObjectOwnership": rule["objectOwnership"]}]}
    )


def _public_access(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    client("s3").put_public_access_block(
        Bucket=i["bucket"],
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": i["blockPublicAcls"],
            "BlockPublicPolicy": i["blockPublicPolicy"],
            "IgnorePublicAcls": i["ignorePublicAcls"],
            "RestrictPublicBuckets": i["restrictPublicBuckets"],
        },
    )


def _encryption(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    rules = []
    for rule in i["rules"]:
        default = rule["applyServerSideEncryptionByDefault"]
        by_default = {"SSEAlgorithm": default["sseAlgorithm"]}
        if default.get("kmsMasterKeyId"):
            by_default["KMSMasterKeyID"] = kms(default["kmsMasterKeyId"])
        rules.append({"ApplyServerSideEncryptionByDefault": by_default, "BucketKeyEnabled": rule["bucketKeyEnabled"]})
    client("s3").put_bucket_encryption(Bucket=i["bucket"], ServerSideEncryptionConfiguration={"Rules": rules})


def _versioning(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    status = i["versioningConfiguration"]["status"]
    client("s3").put_bucket_versioning(Bucket=i["bucket"], VersioningConfiguration={"Status": status})


def _lifecycle(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    rules = []
    for rule in i["rules"]:
        out: dict[str, Any] = {
            "ID": rule["id"],
            "Status": rule["status"],
            "Filter": {"Prefix": rule["filter"]["prefix"]},
        }
        if "expiration" in rule:
            out["Expiration"] = {"Days": rule["expiration"]["days"]}
        if "noncurrentVersionExpiration" in rule:
            out["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": rule["noncurrentVersionExpiration"]["noncurrentDays"]
            }
        if "abortIncompleteMultipartUpload" in rule:
            days = rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
            out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
        rules.append(out)
    client("s3").put_bucket_lifecycle_configuration(Bucket=i["bucket"], LifecycleConfiguration={"Rules": rules})


def _database(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    client("glue").create_database(
        DatabaseInput={"Name": i["name"], "Description": i["description"], "LocationUri": i["locationUri"]},
        Tags=i.get("tags") or {},
    )


def _workgroup(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    config = i["configuration"]
    results = config["resultConfiguration"]
    encryption = {"EncryptionOption": results["encryptionConfiguration"]["encryptionOption"]}
    if results["encryptionConfiguration"].get("kmsKeyArn"):
        encryption["KmsKey"] = kms(results["encryptionConfiguration"]["kmsKeyArn"])
    client("athena").create_work_group(
        Name=i["name"],
        Description=i["description"],
        Configuration={
            "ResultConfiguration": {
                "OutputLocation": results["outputLocation"],
                "EncryptionConfiguration": encryption,
                "ExpectedBucketOwner": results["expectedBucketOwner"],
            },
            "EnforceWorkGroupConfiguration": config["enforceWorkgroupConfiguration"],
            "PublishCloudWatchMetricsEnabled": config["publishCloudwatchMetricsEnabled"],
            "EnableMinimumEncryptionConfiguration": config["enableMinimumEncryptionConfiguration"],
        },
        Tags=_tags(i.get("tags")),
    )


def _table(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    ddb = client("dynamodb")
    keys = [{"AttributeName": i["hashKey"], "KeyType": "HASH"}]
    if i.get("rangeKey"):
        keys.append({"AttributeName": i["rangeKey"], "KeyType": "RANGE"})
    sse = i["serverSideEncryption"]
    ddb.create_table(
        TableName=i["name"],
        KeySchema=keys,
        AttributeDefinitions=[{"AttributeName": a["name"], "AttributeType": a["type"]} for a in i["attributes"]],
        BillingMode=i["billingMode"],
        SSESpecification=(
            {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms(sse["kmsKeyArn"])}
            if sse["enabled"]
            else {"Enabled": False}
        ),
        DeletionProtectionEnabled=i["deletionProtectionEnabled"],
        Tags=_tags(i.get("tags")),
    )
    ddb.update_continuous_backups(
        TableName=i["name"],
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": i["pointInTimeRecovery"]["enabled"]},
    )
    c.tables.append(i["name"])


def _iam_policy(i: dict[str, Any], client: Callable[[str], Any], kms: Callable[[Any], Any], c: Created) -> None:
    document = json.dumps(json.loads(i["policy"]))
    client("iam").create_policy(
        PolicyName=i["name"], PolicyDocument=document, Description=i["description"], Tags=_tags(i.get("tags"))
    )
    c.policies[i["name"]] = i["policy"]


_APPLY: dict[str, Callable[[dict[str, Any], Callable[[str], Any], Callable[[Any], Any], Created], None]] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _ownership,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _public_access,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _encryption,
    "aws:s3/bucketVersioning:BucketVersioning": _versioning,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _lifecycle,
    "aws:glue/catalogDatabase:CatalogDatabase": _database,
    "aws:athena/workgroup:Workgroup": _workgroup,
    "aws:dynamodb/table:Table": _table,
    "aws:iam/policy:Policy": _iam_policy,
}
