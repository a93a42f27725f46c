"""IAM for each Feast operation on one FeatureStore: the calls Feast makes, and nothing more.

The calls are read from Feast's source (0.56 and later): the S3 registry store
(`feast/infra/registry/s3.py`: HeadBucket, GetObject, PutObject of the registry key), the
DynamoDB online store (`feast/infra/online_stores/dynamodb.py`: DescribeTable before any
CreateTable, BatchWriteItem/PutItem/UpdateItem/GetItem to write, BatchGetItem to read; tag
and delete calls that Feast skips with a warning when they are denied), and the Athena offline
store (`.../athena_offline_store/athena.py`, `feast/infra/utils/aws_utils.py`):
StartQueryExecution / GetQueryExecution / GetQueryResults in the workgroup, temporary Glue
tables `feast_entity_df_<hex>` (an uploaded entity dataframe) and `_<hex>` (each unloaded
result) created and dropped through Athena, Parquet written and read under the staging prefix.

What each call needs is the AWS documentation's: Athena runs DDL and reads S3 with the caller's
permissions ("Fine-grained access to databases and tables in the AWS Glue Data Catalog": a
CREATE TABLE or DROP TABLE needs the Glue action on the table and on its database and catalog,
and every caller needs GetDatabase/CreateDatabase on the `default` database); query results
need GetBucketLocation, GetObject, PutObject, ListBucket and the multipart actions on the
results location (the AmazonAthenaFullAccess policy's results statement); SSE-KMS objects need
kms:GenerateDataKey to write and kms:Decrypt to read (S3 User Guide, "Using SSE-KMS").

No policy here allows dynamodb:CreateTable, DeleteTable or TagResource: the platform owns the
tables. tests/feast/ runs Feast against these policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from mlplatform import naming
from mlplatform.components.aws.policies import Statement, allow

APPLY = "apply"  # feast apply / plan: registry, table lookup, source schemas
MATERIALIZE = "materialize"  # materialize, write_to_online_store, push
ONLINE_READ = "online-read"  # get_online_features
HISTORICAL = "historical"  # get_historical_features
OPERATIONS = (APPLY, MATERIALIZE, ONLINE_READ, HISTORICAL)


@dataclass(frozen=True)
class FeastResources:
    """The names and ARNs of what one FeatureStore's Feast touches, in one environment."""

    names: naming.Names
    store: str
    partition: str
    region: str
    account_id: str
    tables: list[str]  # online tables (physical names)
    key_arn: pulumi.Input[str] | None  # None: SSE-S3 (opt-out kms_encryption)

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.names.offline_store_bucket(self.store, self.account_id)}"

    def objects(self, prefix: str) -> str:
        return f"{self.bucket_arn}/{prefix}*"

    @property
    def database(self) -> str:
        return self.names.glue_database(self.store)

    def glue(self, resource: str) -> str:
        return f"arn:{self.partition}:glue:{self.region}:{self.account_id}:{resource}"

    def athena(self, resource: str) -> str:
        return f"arn:{self.partition}:athena:{self.region}:{self.account_id}:{resource}"

    def table_arn(self, table: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account_id}:table/{table}"


def statements(operation: str, r: FeastResources) -> list[Statement]:
    """The statements of the policy for `operation` (one of OPERATIONS)."""
    found: list[Statement | None]
    if operation == APPLY:
        found = [
            *_registry(r, write=True),
            # Feast describes every table of the project before it would create one; a view the
            # blueprint does not declare then fails on CreateTable, which names the table.
            allow(
                ["dynamodb:DescribeTable"],
                r.table_arn(f"{r.names.feast_project(r.store)}.*"),
                sid="FindOnlineTables",
            )
            if r.tables
            else None,
            # Schema inference of AthenaSource(table=...) at apply: GetTableMetadata reads Glue.
            allow(["athena:GetTableMetadata"], r.athena(f"datacatalog/{_CATALOG}"), sid="ReadSourceSchemas"),
            *_catalog_read(r),
            _kms(r, write=True),
        ]
    elif operation == MATERIALIZE:
        found = [
            *_registry(r, write=True),  # materialize records the intervals it wrote
            _online(r, ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]),
            *_athena_queries(r, temporary=(_UNLOAD_PREFIX,)),
            _kms(r, write=True),
        ]
    elif operation == ONLINE_READ:
        found = [*_registry(r, write=False), _online(r, ["dynamodb:BatchGetItem"]), _kms(r, write=False)]
    elif operation == HISTORICAL:
        found = [
            *_registry(r, write=False),
            *_athena_queries(r, temporary=naming.FEAST_TEMP_TABLE_PREFIXES),
            _kms(r, write=True),
        ]
    else:
        raise ValueError(f"unknown Feast operation {operation!r}; one of {', '.join(OPERATIONS)}")
    return [s for s in found if s is not None]


_CATALOG = "AwsDataCatalog"
_UNLOAD_PREFIX = "_"  # `_<hex>`: the table behind each unloaded query result


def _registry(r: FeastResources, *, write: bool) -> list[Statement]:
    actions = ["s3:GetObject", "s3:PutObject"] if write else ["s3:GetObject"]
    return [
        allow(actions, f"{r.bucket_arn}/{naming.FEAST_REGISTRY_KEY}", sid="RegistryWrite" if write else "RegistryRead"),
        # HeadBucket (the registry store's first call) is authorised as ListBucket.
        allow(["s3:ListBucket"], r.bucket_arn, sid="OfflineBucket"),
    ]


def _online(r: FeastResources, actions: list[str]) -> Statement | None:
    if not r.tables:
        return None
    return allow(actions, [r.table_arn(t) for t in r.tables], sid="OnlineTables")


def _catalog_read(r: FeastResources) -> list[Statement]:
    return [
        allow(
            [
                "glue:BatchGetPartition",
                "glue:GetDatabase",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:GetTable",
                "glue:GetTables",
            ],
            [r.glue("catalog"), r.glue(f"database/{r.database}"), r.glue(f"table/{r.database}/*")],
            sid="ReadFeatureCatalog",
        ),
        # Athena's documented requirement for every caller of a Glue-backed catalog.
        allow(
            ["glue:CreateDatabase", "glue:GetDatabase"],
            [r.glue("catalog"), r.glue("database/default")],
            sid="AthenaDefaultDatabase",
        ),
    ]


def _athena_queries(r: FeastResources, *, temporary: tuple[str, ...]) -> list[Statement]:
    staging, results = naming.FEAST_STAGING_PREFIX, naming.ATHENA_RESULTS_PREFIX
    multipart = ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    return [
        allow(
            [
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:GetWorkGroup",
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
            ],
            r.athena(f"workgroup/{r.names.athena_workgroup(r.store)}"),
            sid="QueryInWorkgroup",
        ),
        *_catalog_read(r),
        allow(
            ["glue:CreateTable", "glue:DeleteTable"],
            [
                r.glue("catalog"),
                r.glue(f"database/{r.database}"),
                *(r.glue(f"table/{r.database}/{prefix}*") for prefix in temporary),
            ],
            sid="FeastTemporaryTables",
        ),
        allow(["s3:GetObject"], [r.objects(p) for p in naming.OFFLINE_DATA_PREFIXES], sid="ReadFeatureData"),
        allow(["s3:DeleteObject", "s3:GetObject", "s3:PutObject", *multipart], r.objects(staging), sid="FeastStaging"),
        allow(["s3:GetObject", "s3:PutObject", *multipart], r.objects(results), sid="QueryResults"),
        allow(["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], r.bucket_arn, sid="QueryResultsBucket"),
    ]


def _kms(r: FeastResources, *, write: bool) -> Statement | None:
    if r.key_arn is None:
        return None
    actions = ["kms:Decrypt", "kms:GenerateDataKey"] if write else ["kms:Decrypt"]
    return allow(actions, r.key_arn, sid="PlatformKey")
