"""Feast on what the AWS FeatureStore provisions: `feast apply`, write, read, with the generated
config and the platform's per-operation policies, against the emulator holding exactly what the
plan of fraud_detection (dev) creates for the FeatureStore. Feast creates no table.

Athena cannot be emulated here (moto answers queries with canned results and has no
GetTableMetadata), so this round trip writes with `write_to_online_store`, not `materialize`,
and applies with `--skip-source-validation`; test_athena_permissions.py holds the Athena
statements to Feast's source and AWS's documentation instead.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlplatform.plan.build import build_plan
from mlplatform.plan.model import Plan
from mlplatform.spec.feature_store import FeatureStore as StoreSpec
from tests.conftest import ROOT
from tests.feast import iam, planned
from tests.feast.conftest import clients, feast_cli, feast_cli_here, feast_config, write_repo

BLUEPRINT = ROOT / "blueprints" / "fraud_detection.py"
STORE = "features"
POLICY = "fraud-dev-features-feast-{}"


@dataclass
class World:
    plan: Plan
    created: planned.Created
    repo: Path
    config: str
    views: list[str]
    client: Any
    url: str

    def role(self, operation: str) -> iam.Role:
        bucket = self.created.buckets[0]
        return iam.Role(
            json.loads(self.created.policies[POLICY.format(operation)]), {bucket: self.created.planned_key_arn}
        )

    def feast_cli(
        self, operation: str, *args: str, repo: Path | None = None
    ) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
        return feast_cli(self.role(operation), repo or self.repo, *args)


@pytest.fixture(scope="module")
def world(aws: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    plan = build_plan(BLUEPRINT, "dev")
    children = planned.component_children(plan, "mlplatform:aws:FeatureStore", STORE)
    client = clients(aws, plan.region)
    created = planned.create(plan, children, client)
    tmp = tmp_path_factory.mktemp("feast-aws")
    config = feast_config(tmp, "fraud_detection.py", "dev")
    from mlplatform.blueprint import load

    spec = next(c for c in load(BLUEPRINT).resolve("dev").components if isinstance(c, StoreSpec) and c.name == STORE)
    views = [v.name for v in spec.online_views()]
    repo = tmp / "repo"
    write_repo(repo, _pointed_at(config, aws), views, entity="card", database="fraud_dev_features")
    yield World(plan, created, repo, config, views, client, aws)


def _pointed_at(config: str, url: str) -> str:
    """The generated config with its DynamoDB endpoint set to the emulator: the one change."""
    data = yaml.safe_load(config)
    data["online_store"]["endpoint_url"] = url
    return yaml.safe_dump(data)


def test_the_cli_config_is_the_stack_output(world: World) -> None:
    assert world.config == world.plan.outputs["features_feature_store_yaml"]


def test_the_plan_was_created_as_planned(world: World) -> None:
    assert sorted(world.created.tables) == ["fraud_dev_features.card_activity", "fraud_dev_features.merchant_risk"]
    assert set(world.created.policies) == {
        POLICY.format(op) for op in ("apply", "materialize", "online-read", "historical")
    }
    assert sorted(world.created.skipped) == [
        "features-feature-groups-policy",  # SageMaker Feature Groups
        "features-feature-groups-role",
        "features-historical-train",  # attachments to the training job role
        "features-offline-logging",  # into the core's access-log bucket
        "features-offline-policy",  # TLS-only: moto cannot evaluate its condition
        "features-online-read-train",
        "features-transactions",
    ]


@pytest.fixture(scope="module")
def applied(world: World) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    return world.feast_cli("apply", "apply", "--skip-source-validation")


def test_feast_apply_finds_the_tables_and_creates_none(world: World, applied: Any) -> None:
    done, calls = applied
    assert done.returncode == 0, done.stderr[-3000:]
    for view in world.views:
        assert f"Deploying infrastructure for {view}" in done.stdout
    operations = {(c["service"], c["operation"]) for c in calls}
    assert ("dynamodb", "CreateTable") not in operations
    # The tables Feast looks for are exactly the planned ones (Feast's own table names).
    described = {c["needs"][0][1].rsplit("/", 1)[1] for c in calls if c["operation"] == "DescribeTable"}
    assert described == set(world.created.tables)
    assert {("dynamodb", "DescribeTable"), ("s3", "HeadBucket"), ("s3", "PutObject")} <= operations
    # Feast diffs tags on tables it finds; the apply policy has no tag actions and Feast goes on.
    denied = {(c["service"], c["operation"]) for c in calls if not c["allowed"]}
    assert denied <= {("dynamodb", "ListTagsOfResource")}
    assert world.client("dynamodb").list_tables()["TableNames"] == sorted(world.created.tables)


def test_the_registry_is_written_to_the_offline_bucket_encrypted(world: World, applied: Any) -> None:
    head = world.client("s3").head_object(Bucket=world.created.buckets[0], Key="feast/registry.db")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == world.created.key_arn


@pytest.fixture(scope="module")
def rows() -> Any:
    import pandas as pd

    now = datetime.now(UTC)
    return pd.DataFrame({"card_id": [1001, 1002], "score": [0.25, 0.75], "event_timestamp": [now, now]})


def test_write_then_read_online_features_each_as_its_own_role(world: World, applied: Any, rows: Any) -> None:
    from feast import FeatureStore

    done, _ = applied
    assert done.returncode == 0
    store = FeatureStore(repo_path=str(world.repo))
    with iam.guard(world.role("materialize")) as writer:
        for view in world.views:
            store.write_to_online_store(view, rows)
    assert writer.denied() == []
    assert "dynamodb:BatchWriteItem" in writer.actions()
    reader_store = FeatureStore(repo_path=str(world.repo))
    features = [f"{view}:score" for view in world.views]
    with iam.guard(world.role("online-read")) as reader:
        got = reader_store.get_online_features(
            features=features, entity_rows=[{"card_id": 1001}, {"card_id": 1002}], full_feature_names=True
        )
    assert reader.denied() == []
    assert {a for a in reader.actions() if a.startswith("dynamodb:")} == {"dynamodb:BatchGetItem"}
    values = got.to_dict()
    assert values["card_id"] == [1001, 1002]
    for view in world.views:
        assert values[f"{view}__score"] == pytest.approx([0.25, 0.75])


def test_the_read_role_cannot_write(world: World, applied: Any, rows: Any) -> None:
    from botocore.exceptions import ClientError
    from feast import FeatureStore

    store = FeatureStore(repo_path=str(world.repo))
    with iam.guard(world.role("online-read")), pytest.raises(ClientError, match="dynamodb:BatchWriteItem"):
        store.write_to_online_store(world.views[0], rows)


def test_feast_created_nothing_and_the_tables_keep_the_platforms_settings(world: World, applied: Any) -> None:
    ddb = world.client("dynamodb")
    assert ddb.list_tables()["TableNames"] == sorted(world.created.tables)
    planned_tables = {r.inputs["name"]: r.inputs for r in world.plan.resources if r.type == "aws:dynamodb/table:Table"}
    for name in world.created.tables:
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == [{"AttributeName": "entity_id", "KeyType": "HASH"}]
        assert table["SSEDescription"]["SSEType"] == "KMS"
        assert table["SSEDescription"]["KMSMasterKeyArn"] == world.created.key_arn
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]}
        assert tags == planned_tables[name]["tags"]
    glue = world.client("glue")
    assert glue.get_tables(DatabaseName="fraud_dev_features")["TableList"] == []


def test_a_view_the_blueprint_does_not_declare_fails_on_create_table(world: World, applied: Any) -> None:
    repo = world.repo.parent / "undeclared"
    write_repo(
        repo,
        (world.repo / "feature_store.yaml").read_text(),
        [*world.views, "undeclared_view"],
        "card",
        "fraud_dev_features",
    )
    code, output, calls = feast_cli_here(world.role("apply"), repo, "apply", "--skip-source-validation")
    assert code != 0
    assert "not authorized to perform: dynamodb:CreateTable" in output
    assert "fraud_dev_features.undeclared_view" in output
    denied = [c for c in calls if not c["allowed"] and c["operation"] == "CreateTable"]
    assert len(denied) == 1
    assert world.client("dynamodb").list_tables()["TableNames"] == sorted(world.created.tables)


def test_a_view_removed_from_the_repo_keeps_its_table(world: World, applied: Any) -> None:
    # Feast's DynamoDB online store deletes the tables of removed views, and on AccessDenied logs
    # that it may not and goes on (_delete_table_idempotent): the platform keeps owning the table.
    repo = world.repo.parent / "removed"
    kept, removed = world.views[0], world.views[1]
    write_repo(repo, (world.repo / "feature_store.yaml").read_text(), [kept], "card", "fraud_dev_features")
    code, output, calls = feast_cli_here(world.role("apply"), repo, "apply", "--skip-source-validation")
    assert code == 0, output[-3000:]
    deletes = [c for c in calls if c["operation"] == "DeleteTable"]
    assert [(c["allowed"], c["needs"][0][1].rsplit("/", 1)[1]) for c in deletes] == [
        (False, f"fraud_dev_features.{removed}")
    ]
    assert world.client("dynamodb").list_tables()["TableNames"] == sorted(world.created.tables)
