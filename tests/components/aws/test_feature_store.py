"""FeatureStore: offline bucket, catalog and workgroup, Feast's online tables, feature groups,
the per-operation Feast policies, and the Feast config output."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from mlplatform.components.aws.feature_store import FeatureStore, FeatureStoreArgs
from mlplatform.spec.feature_store import Feature, FeatureGroup, FeatureView
from mlplatform.spec.feature_store import FeatureStore as Spec
from tests.components.aws.helpers import ACCESS_LOGS, ACCOUNT, KEY_ARN, REGION, TAGS, names
from tests.components.conftest import Resources, actions, assert_tagged, run

COMPONENT = "mlplatform:aws:FeatureStore"
GROUP = FeatureGroup(
    name="transactions",
    record_identifier="transaction_id",
    features=[Feature(name="transaction_id", type="String"), Feature(name="event_time"), Feature(name="amount")],
)
VIEWS = [FeatureView(name="card_activity"), FeatureView(name="merchant_risk"), FeatureView(name="audit", online=False)]
BUCKET = f"fraud-dev-features-offline-{ACCOUNT}"


def _store(spec: Spec, protect: bool = False) -> None:
    store = FeatureStore(
        "features",
        FeatureStoreArgs(
            spec=spec,
            names=names(),
            tags=TAGS,
            account_id=ACCOUNT,
            region=REGION,
            kms_key_arn=KEY_ARN,
            access_logs_bucket=ACCESS_LOGS,
            protect=protect,
        ),
    )
    role = aws.iam.Role("trainer", name="trainer", assume_role_policy="{}")
    store.grant_read(role, "trainer")
    store.grant_write(role, "ingest")
    pulumi.export("yaml", store.feast_yaml)


@pytest.fixture(scope="module")
def secure() -> Resources:
    spec = Spec(
        name="features", online_ttl_days=90, offline_retention_days=30, feature_views=VIEWS, feature_groups=[GROUP]
    )
    return Resources(run(lambda: _store(spec)))


@pytest.fixture(scope="module")
def protected() -> Resources:
    return Resources(run(lambda: _store(Spec(name="features", feature_views=VIEWS), protect=True), stack="prod"))


@pytest.fixture(scope="module")
def opted_out() -> Resources:
    spec = Spec(
        name="features",
        feature_views=VIEWS,
        opt_out=["kms_encryption", "versioning", "access_logging", "point_in_time_recovery"],
    )
    return Resources(run(lambda: _store(spec)))


def test_children_parented_named_and_tagged(secure: Resources) -> None:
    component = secure.component(COMPONENT)
    children = [r for r in secure.all if r.parent == component.urn]
    assert {r.type for r in children} >= {
        "aws:s3/bucket:Bucket",
        "aws:glue/catalogDatabase:CatalogDatabase",
        "aws:athena/workgroup:Workgroup",
        "aws:dynamodb/table:Table",
        "aws:sagemaker/featureGroup:FeatureGroup",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    }
    assert all(r.name.startswith("features-") for r in children)
    mine = [r for r in secure.all if r.name != "trainer"]
    assert all(r.parent == component.urn for r in mine if r is not component)
    assert assert_tagged(mine, TAGS) >= 10


def test_offline_bucket_secure_defaults(secure: Resources) -> None:
    assert secure.named("features-offline").inputs["bucket"] == BUCKET
    sse = secure.named("features-offline-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}
    assert secure.named("features-offline-versioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    assert secure.named("features-offline-logging").inputs["targetBucket"] == ACCESS_LOGS
    assert secure.named("features-offline-public-access").inputs["restrictPublicBuckets"] is True
    assert "aws:SecureTransport" in secure.named("features-offline-policy").inputs["policy"]
    catalog = secure.named("features-offline-catalog").inputs
    assert (catalog["name"], catalog["locationUri"]) == ("fraud_dev_features", f"s3://{BUCKET}/data/")


def test_retention_expires_the_data_prefixes_never_the_feast_registry(secure: Resources) -> None:
    # S3 User Guide, "Lifecycle configuration elements": a rule's Filter prefix limits what it expires;
    # an empty prefix would expire feast/registry.db with the feature data.
    rules = secure.named("features-offline-lifecycle").inputs["rules"]
    expiring = {r["filter"]["prefix"]: r["expiration"]["days"] for r in rules if "expiration" in r}
    assert expiring == {
        "data/": 30,
        "sagemaker-feature-store/": 30,
        "athena/staging/": 1,
        "athena/results/": 7,
    }
    assert not any("feast/registry.db".startswith(prefix) for prefix in expiring)
    noncurrent = [r for r in rules if "noncurrentVersionExpiration" in r]
    assert [r["noncurrentVersionExpiration"]["noncurrentDays"] for r in noncurrent] == [30]


def test_athena_workgroup_writes_encrypted_results_without_enforcing_them(secure: Resources) -> None:
    workgroup = secure.named("features-athena").inputs
    assert workgroup["name"] == "fraud-dev-features"
    config = workgroup["configuration"]
    results = config["resultConfiguration"]
    assert results["outputLocation"] == f"s3://{BUCKET}/athena/results/"
    assert results["encryptionConfiguration"] == {"encryptionOption": "SSE_KMS", "kmsKeyArn": KEY_ARN}
    assert results["expectedBucketOwner"] == ACCOUNT
    # Athena, "Troubleshoot workgroup errors": a workgroup that enforces its results location fails
    # a CTAS with external_location, which is how Feast unloads every result (athena.py).
    assert config["enforceWorkgroupConfiguration"] is False
    assert config["enableMinimumEncryptionConfiguration"] is True


def test_one_table_per_online_feature_view_as_feast_names_and_keys_it(secure: Resources) -> None:
    # Feast DynamoDB online store: table "{project}.{table_name}", KeySchema entity_id HASH (S).
    tables = {r.inputs["name"]: r.inputs for r in secure.of_type("aws:dynamodb/table:Table")}
    assert set(tables) == {"fraud_dev_features.card_activity", "fraud_dev_features.merchant_risk"}
    for table in tables.values():
        assert table["hashKey"] == "entity_id" and "rangeKey" not in table
        assert table["attributes"] == [{"name": "entity_id", "type": "S"}]
        assert table["billingMode"] == "PAY_PER_REQUEST"
        assert table["pointInTimeRecovery"] == {"enabled": True}
        assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": KEY_ARN}
        assert table["deletionProtectionEnabled"] is False
        assert "ttl" not in table  # Feast writes no expiry attribute
        assert table["tags"] == TAGS


def test_online_tables_are_protected_in_production(protected: Resources) -> None:
    tables = protected.of_type("aws:dynamodb/table:Table")
    assert len(tables) == 2
    assert all(t.inputs["deletionProtectionEnabled"] is True and t.protect for t in tables)


def test_no_online_store_no_tables() -> None:
    captured = Resources(run(lambda: _store(Spec(name="features", online_store="none"))))
    assert captured.of_type("aws:dynamodb/table:Table") == []
    assert yaml.safe_load(captured.captured.outputs["yaml"])["online_store"] is None


def test_feature_group_online_and_offline_with_kms(secure: Resources) -> None:
    group = secure.named("features-transactions").inputs
    assert group["featureGroupName"] == "fraud-dev-features-transactions"
    assert group["recordIdentifierFeatureName"] == "transaction_id"
    assert group["onlineStoreConfig"]["enableOnlineStore"] is True
    assert group["onlineStoreConfig"]["securityConfig"]["kmsKeyId"] == KEY_ARN
    assert group["onlineStoreConfig"]["ttlDuration"] == {"unit": "Days", "value": 90}
    s3 = group["offlineStoreConfig"]["s3StorageConfig"]
    assert s3["kmsKeyId"] == KEY_ARN and s3["s3Uri"] == f"s3://{BUCKET}/sagemaker-feature-store"
    assert group["offlineStoreConfig"]["dataCatalogConfig"]["database"] == "fraud_dev_features"
    assert [f["featureType"] for f in group["featureDefinitions"]] == ["String", "Fractional", "Fractional"]


def test_one_managed_policy_per_feast_operation(secure: Resources) -> None:
    found = {r.inputs["name"]: r for r in secure.of_type("aws:iam/policy:Policy")}
    assert set(found) == {
        "fraud-dev-features-feast-apply",
        "fraud-dev-features-feast-materialize",
        "fraud-dev-features-feast-online-read",
        "fraud-dev-features-feast-historical",
    }
    everything = [a for r in found.values() for a in actions(secure.policy(r))]
    assert not [a for a in everything if "*" in a]
    # The platform owns the tables: no Feast role creates, deletes or re-tags one.
    assert not {"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:TagResource"} & set(everything)
    for r in found.values():
        sids = [s.get("Sid") for s in secure.policy(r)["Statement"]]
        assert len(sids) == len(set(sids)), f"{r.name}: IAM requires unique Sids in a policy: {sids}"
        # IAM quotas: a managed policy document is at most 6,144 characters, whitespace excluded.
        assert len(json.dumps(secure.policy(r), separators=(",", ":"))) < 6144


def test_grants_attach_the_operations_policies(secure: Resources) -> None:
    attached = {r.name: r.inputs for r in secure.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    policy = f"arn:aws:iam::{ACCOUNT}:policy/fraud-dev-features-feast-"
    assert attached == {
        "features-historical-trainer": {"role": "trainer", "policyArn": f"{policy}historical"},
        "features-online-read-trainer": {"role": "trainer", "policyArn": f"{policy}online-read"},
        "features-materialize-ingest": {"role": "trainer", "policyArn": f"{policy}materialize"},
    }


def test_feast_yaml_names_the_stores(secure: Resources) -> None:
    text = secure.captured.outputs["yaml"]
    assert text.splitlines()[3:6] == [
        "# Online tables the platform created, one per declared feature view:",
        "#   fraud_dev_features.card_activity",
        "#   fraud_dev_features.merchant_risk",
    ]
    config = yaml.safe_load(text)
    assert config["provider"] == "aws" and config["project"] == "fraud_dev_features"
    assert config["registry"] == {"path": f"s3://{BUCKET}/feast/registry.db", "cache_ttl_seconds": 60}
    assert config["online_store"] == {
        "type": "dynamodb",
        "region": REGION,
        "table_name_template": "{project}.{table_name}",
        "tags": TAGS,
    }
    assert config["offline_store"] == {
        "type": "athena",
        "region": REGION,
        "data_source": "AwsDataCatalog",
        "database": "fraud_dev_features",
        "workgroup": "fraud-dev-features",
        "s3_staging_location": f"s3://{BUCKET}/athena/staging",
    }


def test_opt_outs_are_honoured_and_reported(opted_out: Resources) -> None:
    names_ = {r.name for r in opted_out.all}
    assert "features-offline-versioning" not in names_
    assert "features-offline-logging" not in names_
    sse = opted_out.named("features-offline-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse["sseAlgorithm"] == "AES256"
    encryption = opted_out.named("features-athena").inputs["configuration"]["resultConfiguration"]
    assert encryption["encryptionConfiguration"] == {"encryptionOption": "SSE_S3"}
    for table in opted_out.of_type("aws:dynamodb/table:Table"):
        assert table.inputs["pointInTimeRecovery"] == {"enabled": False}
        assert table.inputs["serverSideEncryption"]["enabled"] is False
    for policy in opted_out.of_type("aws:iam/policy:Policy"):
        assert not [a for a in actions(opted_out.policy(policy)) if a.startswith("kms:")]
    warned = " ".join(opted_out.captured.warnings)
    for item in ("kms_encryption", "versioning", "access_logging", "point_in_time_recovery"):
        assert item in warned
