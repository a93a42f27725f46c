"""The Feast policies against what Feast's Athena offline store calls, which no emulator runs.

Athena cannot be emulated here (moto answers StartQueryExecution with canned results and runs no
DDL), so get_historical_features and materialize are checked call by call: each (action,
resource) below is what the calls in Feast's source need, read from
feast/infra/offline_stores/contrib/athena_offline_store/athena.py and feast/infra/utils/aws_utils.py
(Feast 0.56+), authorised as AWS documents it. The policies come from the component under the
SDK mocks and are evaluated with the same evaluator the Feast round trips run under.
"""

from __future__ import annotations

import json

import pytest

from mlplatform.components.aws.feature_store import FeatureStore, FeatureStoreArgs
from mlplatform.spec.feature_store import FeatureStore as Spec
from mlplatform.spec.feature_store import FeatureView
from tests.components.aws.helpers import ACCESS_LOGS, ACCOUNT, KEY_ARN, REGION, TAGS, names
from tests.components.conftest import Resources, run
from tests.feast.iam import Role

BUCKET = f"arn:aws:s3:::fraud-dev-features-offline-{ACCOUNT}"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"
DB = "fraud_dev_features"
WORKGROUP = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/fraud-dev-features"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/fraud_dev_features.card_activity"
ENTITY_TABLE = "feast_entity_df_0123456789abcdef0123456789abcdef"  # offline_utils.get_temp_entity_table_name
UNLOAD_TABLE = "_0123456789abcdef0123456789abcdef"  # AthenaRetrievalJob._to_arrow_internal


def _athena_query(temp_table: str) -> list[tuple[str, str]]:
    """One Athena statement creating `temp_table` (CREATE EXTERNAL TABLE / CTAS) and its DROP."""
    return [
        # execute_athena_query_async: StartQueryExecution(WorkGroup=...), then GetQueryExecution polls.
        ("athena:StartQueryExecution", WORKGROUP),
        ("athena:GetQueryExecution", WORKGROUP),
        # Athena, "Fine-grained access to databases and tables": CREATE TABLE needs the action on the
        # table and its ancestors; DROP TABLE the delete action on them; every query the default db.
        ("glue:GetDatabase", f"{GLUE}:database/default"),
        ("glue:CreateTable", f"{GLUE}:catalog"),
        ("glue:CreateTable", f"{GLUE}:database/{DB}"),
        ("glue:CreateTable", f"{GLUE}:table/{DB}/{temp_table}"),
        ("glue:GetTable", f"{GLUE}:table/{DB}/{temp_table}"),
        ("glue:DeleteTable", f"{GLUE}:catalog"),
        ("glue:DeleteTable", f"{GLUE}:database/{DB}"),
        ("glue:DeleteTable", f"{GLUE}:table/{DB}/{temp_table}"),
        # Query results land in the workgroup's output location, SSE-KMS with the platform key
        # (the AmazonAthenaFullAccess results statement; S3 User Guide, "Using SSE-KMS").
        ("s3:GetBucketLocation", BUCKET),
        ("s3:PutObject", f"{BUCKET}/athena/results/0000-query-id.csv"),
        ("s3:GetObject", f"{BUCKET}/athena/results/0000-query-id.csv"),
        ("s3:AbortMultipartUpload", f"{BUCKET}/athena/results/0000-query-id.csv"),
        ("kms:GenerateDataKey", KEY_ARN),
        ("kms:Decrypt", KEY_ARN),
    ]


def _unload() -> list[tuple[str, str]]:
    """AthenaRetrievalJob.to_df/to_arrow: a CTAS `_<hex>` with external_location under the staging
    prefix reading the feature data, downloaded (ListBucket, GetObject) and deleted afterwards."""
    unload = f"{BUCKET}/athena/staging/unload/7d1e/part-0.parquet"
    return [
        *_athena_query(UNLOAD_TABLE),
        ("glue:GetTable", f"{GLUE}:table/{DB}/card_activity"),  # the feature view's AthenaSource
        ("glue:GetPartitions", f"{GLUE}:table/{DB}/card_activity"),
        ("s3:ListBucket", BUCKET),
        ("s3:GetObject", f"{BUCKET}/data/card_activity/part-0.parquet"),
        ("s3:PutObject", unload),
        ("s3:GetObject", unload),
        ("s3:DeleteObject", unload),
    ]


# get_historical_features(entity_df=<DataFrame>): upload_df_to_athena puts the entity rows under
# <staging>/entity_df/ and CREATEs EXTERNAL TABLE feast_entity_df_<hex>; the point-in-time join is
# unloaded; DROP TABLE feast_entity_df_<hex> and delete_s3_directory clean up.
HISTORICAL = [
    ("s3:ListBucket", BUCKET),  # the S3 registry store's HeadBucket; Feast's cleanup lists entity_df/
    ("s3:GetObject", f"{BUCKET}/feast/registry.db"),
    ("s3:PutObject", f"{BUCKET}/athena/staging/entity_df/{ENTITY_TABLE}/{ENTITY_TABLE}.parquet"),
    *_athena_query(ENTITY_TABLE),
    *_unload(),
]
# materialize: pull_latest_from_table_or_query unloads the latest rows, writes them online and
# records the interval in the registry (registry.apply_materialization).
MATERIALIZE = [
    ("s3:GetObject", f"{BUCKET}/feast/registry.db"),
    ("s3:PutObject", f"{BUCKET}/feast/registry.db"),
    *_unload(),
    ("dynamodb:BatchWriteItem", TABLE),
]


@pytest.fixture(scope="module")
def roles() -> dict[str, Role]:
    def program() -> None:
        FeatureStore(
            "features",
            FeatureStoreArgs(
                spec=Spec(name="features", feature_views=[FeatureView(name="card_activity")]),
                names=names(),
                tags=TAGS,
                account_id=ACCOUNT,
                region=REGION,
                kms_key_arn=KEY_ARN,
                access_logs_bucket=ACCESS_LOGS,
            ),
        )

    found = Resources(run(program)).of_type("aws:iam/policy:Policy")
    return {
        r.inputs["name"].removeprefix("fraud-dev-features-feast-"): Role(json.loads(r.inputs["policy"])) for r in found
    }


@pytest.mark.parametrize(("operation", "needed"), [("historical", HISTORICAL), ("materialize", MATERIALIZE)])
def test_athena_operations_are_allowed_call_by_call(roles: dict[str, Role], operation: str, needed: list) -> None:
    refused = [(a, r) for a, r in needed if not roles[operation].allows(a, r)]
    assert refused == []


@pytest.mark.parametrize(
    ("operation", "action", "resource"),
    [
        # Temporary tables only: the team's source tables cannot be created, replaced or dropped.
        ("historical", "glue:DeleteTable", f"{GLUE}:table/{DB}/card_activity"),
        ("historical", "glue:CreateTable", f"{GLUE}:table/{DB}/card_activity"),
        ("materialize", "glue:CreateTable", f"{GLUE}:table/{DB}/{ENTITY_TABLE}"),  # no entity upload
        ("historical", "glue:CreateTable", f"{GLUE}:table/other_db/{UNLOAD_TABLE}"),
        ("historical", "glue:CreateTable", f"{GLUE}:database/other_db"),
        # Feature data is read, never written, through Athena's roles; the registry is read only.
        ("historical", "s3:PutObject", f"{BUCKET}/data/card_activity/x.parquet"),
        ("historical", "s3:DeleteObject", f"{BUCKET}/athena/results/0000-query-id.csv"),
        ("historical", "s3:PutObject", f"{BUCKET}/feast/registry.db"),
        ("historical", "athena:StartQueryExecution", f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary"),
        ("historical", "dynamodb:BatchWriteItem", TABLE),
        # Serving reads online features and the registry, nothing offline.
        ("online-read", "athena:StartQueryExecution", WORKGROUP),
        ("online-read", "s3:GetObject", f"{BUCKET}/data/card_activity/x.parquet"),
        ("online-read", "dynamodb:BatchWriteItem", TABLE),
        # feast apply changes the registry and reads schemas; it writes no features and no tables.
        ("apply", "dynamodb:CreateTable", TABLE),
        ("apply", "dynamodb:DeleteTable", TABLE),
        ("apply", "dynamodb:TagResource", TABLE),
        ("apply", "dynamodb:BatchWriteItem", TABLE),
        ("apply", "glue:CreateTable", f"{GLUE}:table/{DB}/{UNLOAD_TABLE}"),
    ],
)
def test_each_role_is_refused_what_its_operation_does_not_do(
    roles: dict[str, Role], operation: str, action: str, resource: str
) -> None:
    assert not roles[operation].allows(action, resource)


def test_apply_reads_source_schemas(roles: dict[str, Role]) -> None:
    # AthenaSource.get_table_column_names_and_types (schema inference at apply): GetTableMetadata on
    # the data catalog, which reads the table from Glue with the caller's permissions.
    apply = roles["apply"]
    assert apply.allows("athena:GetTableMetadata", f"arn:aws:athena:{REGION}:{ACCOUNT}:datacatalog/AwsDataCatalog")
    assert apply.allows("glue:GetTable", f"{GLUE}:table/{DB}/card_activity")
    assert apply.allows("dynamodb:DescribeTable", TABLE)


def test_no_statement_needs_a_condition_the_evaluator_skips(roles: dict[str, Role]) -> None:
    for role in roles.values():
        assert all("Condition" not in s for s in role.document["Statement"])
