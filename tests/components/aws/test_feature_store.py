"""FeatureStore: offline bucket and catalog, online table, feature groups, grants, Feast YAML."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from mlplatform.components.aws.feature_store import FeatureStore, FeatureStoreArgs
from mlplatform.spec.feature_store import Feature, FeatureGroup
from mlplatform.spec.feature_store import FeatureStore as Spec
from tests.components.aws.helpers import ACCESS_LOGS, ACCOUNT, KEY_ARN, REGION, TAGS, names
from tests.components.conftest import Resources, actions, assert_tagged, run

COMPONENT = "mlplatform:aws:FeatureStore"
GROUP = FeatureGroup(
    name="transactions",
    record_identifier="transaction_id",
    features=[Feature(name="transaction_id", type="String"), Feature(name="event_time"), Feature(name="amount")],
)


def _store(spec: Spec) -> None:
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
        ),
    )
    role = aws.iam.Role("trainer", assume_role_policy="{}")
    store.grant_read(role, "trainer")
    store.grant_write(role, "ingest")
    pulumi.export("yaml", store.feast_yaml)


@pytest.fixture(scope="module")
def secure() -> Resources:
    return Resources(
        run(
            lambda: _store(Spec(name="features", online_ttl_days=90, offline_retention_days=30, feature_groups=[GROUP]))
        )
    )


@pytest.fixture(scope="module")
def opted_out() -> Resources:
    spec = Spec(name="features", opt_out=["kms_encryption", "versioning", "access_logging", "point_in_time_recovery"])
    return Resources(run(lambda: _store(spec)))


def test_children_parented_named_and_tagged(secure: Resources) -> None:
    component = secure.component(COMPONENT)
    children = [r for r in secure.all if r.parent == component.urn]
    assert {r.type for r in children} >= {
        "aws:s3/bucket:Bucket",
        "aws:glue/catalogDatabase:CatalogDatabase",
        "aws:dynamodb/table:Table",
        "aws:sagemaker/featureGroup:FeatureGroup",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
    }
    assert all(r.name.startswith("features-") for r in children)
    mine = [r for r in secure.all if r.name != "trainer"]
    assert all(r.parent == component.urn for r in mine if r is not component)
    assert assert_tagged(mine, TAGS) >= 5


def test_offline_bucket_secure_defaults_and_retention(secure: Resources) -> None:
    assert secure.named("features-offline").inputs["bucket"] == f"fraud-dev-features-offline-{ACCOUNT}"
    sse = secure.named("features-offline-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}
    assert secure.named("features-offline-versioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    assert secure.named("features-offline-logging").inputs["targetBucket"] == ACCESS_LOGS
    assert secure.named("features-offline-public-access").inputs["restrictPublicBuckets"] is True
    assert "aws:SecureTransport" in secure.named("features-offline-policy").inputs["policy"]
    rules = {r["id"]: r for r in secure.named("features-offline-lifecycle").inputs["rules"]}
    assert rules["expire-after-retention"]["expiration"]["days"] == 30
    assert secure.named("features-offline-catalog").inputs["name"] == "fraud_dev_features"


def test_online_table_on_demand_pitr_kms_ttl(secure: Resources) -> None:
    table = secure.named("features-online").inputs
    assert table["name"] == "fraud-dev-features-online"
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": KEY_ARN}
    assert table["ttl"] == {"attributeName": "expires_at", "enabled": True}


def test_feature_group_online_and_offline_with_kms(secure: Resources) -> None:
    group = secure.named("features-transactions").inputs
    assert group["featureGroupName"] == "fraud-dev-features-transactions"
    assert group["recordIdentifierFeatureName"] == "transaction_id"
    assert group["onlineStoreConfig"]["enableOnlineStore"] is True
    assert group["onlineStoreConfig"]["securityConfig"]["kmsKeyId"] == KEY_ARN
    assert group["onlineStoreConfig"]["ttlDuration"] == {"unit": "Days", "value": 90}
    s3 = group["offlineStoreConfig"]["s3StorageConfig"]
    assert s3["kmsKeyId"] == KEY_ARN and s3["s3Uri"].endswith("/sagemaker-feature-store")
    assert group["offlineStoreConfig"]["dataCatalogConfig"]["database"] == "fraud_dev_features"
    assert [f["featureType"] for f in group["featureDefinitions"]] == ["String", "Fractional", "Fractional"]


def test_grants_are_least_privilege(secure: Resources) -> None:
    read = secure.policy(secure.named("features-read-trainer"))
    write = secure.policy(secure.named("features-write-ingest"))
    assert not [a for a in actions(read) + actions(write) if "*" in a]
    assert "dynamodb:GetItem" in actions(read) and "dynamodb:PutItem" not in actions(read)
    assert "s3:PutObject" in actions(write) and "dynamodb:PutItem" in actions(write)
    online = next(s for s in read["Statement"] if s.get("Sid") == "ReadOnlineFeatures")
    assert online["Resource"][0].endswith(":table/fraud-dev-features-online")


def test_feast_yaml_names_the_stores(secure: Resources) -> None:
    config = yaml.safe_load(secure.captured.outputs["yaml"])
    assert config["provider"] == "aws" and config["project"] == "fraud_dev_features"
    assert config["online_store"]["type"] == "dynamodb"
    assert config["online_store"]["table_name_template"].startswith("fraud-dev-features-online.")
    assert config["offline_store"]["database"] == "fraud_dev_features"
    assert config["registry"] == f"s3://fraud-dev-features-offline-{ACCOUNT}/feast/registry.db"


def test_opt_outs_are_honoured_and_reported(opted_out: Resources) -> None:
    names_ = {r.name for r in opted_out.all}
    assert "features-offline-versioning" not in names_
    assert "features-offline-logging" not in names_
    sse = opted_out.named("features-offline-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse["sseAlgorithm"] == "AES256"
    table = opted_out.named("features-online").inputs
    assert table["pointInTimeRecovery"] == {"enabled": False}
    assert table["serverSideEncryption"]["enabled"] is False
    assert "ttl" not in table
    warned = " ".join(opted_out.captured.warnings)
    for item in ("kms_encryption", "versioning", "access_logging", "point_in_time_recovery"):
        assert item in warned
