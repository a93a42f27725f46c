"""Feast's own config classes accept the feature_store.yaml a FeatureStore outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from feast import repo_config  # a test dependency: Feast's own config classes judge the YAML
from feast.infra.online_stores.dynamodb import DynamoDBOnlineStoreConfig

from mlplatform import feast_config, naming
from mlplatform.spec.feature_store import FeatureStore as Spec
from mlplatform.spec.feature_store import FeatureView
from tests.components.aws.helpers import ACCOUNT, REGION, TAGS, names

VIEWS = [FeatureView(name="card_activity")]


def _target(account: str | None = ACCOUNT, namespace: str | None = None) -> feast_config.Target:
    return feast_config.Target(names=names(), region=REGION, account_id=account, tags=TAGS, namespace=namespace)


def test_table_name_template_is_feasts_own_default() -> None:
    # The tables the platform creates carry the names Feast computes with its default template.
    assert DynamoDBOnlineStoreConfig.model_fields["table_name_template"].default == naming.FEAST_TABLE_NAME_TEMPLATE


@pytest.mark.parametrize("online_store", ["dynamodb", "none"])
def test_feast_repo_config_accepts_the_aws_config(online_store: str, tmp_path: Path) -> None:
    spec = Spec(name="features", online_store=online_store, feature_views=[] if online_store == "none" else VIEWS)
    path = tmp_path / "feature_store.yaml"
    path.write_text(feast_config.render(spec, _target()))
    # feast.repo_config.load_repo_config: what `feast apply` itself reads the file with.
    config = repo_config.load_repo_config(tmp_path, path)
    assert config.provider == "aws"
    assert config.registry.path == f"s3://fraud-dev-features-offline-{ACCOUNT}/feast/registry.db"
    assert config.offline_store.type == "athena"
    assert config.offline_store.workgroup == "fraud-dev-features"
    assert config.offline_store.s3_staging_location == f"s3://fraud-dev-features-offline-{ACCOUNT}/athena/staging"
    if online_store == "dynamodb":
        assert config.online_store.type == "dynamodb"
        assert config.online_store.table_name_template.format(project=config.project, table_name="card_activity") == (
            names().feast_online_table("features", "card_activity")
        )
        assert config.online_store.tags == TAGS
    else:
        assert config.online_store is None


def test_redis_config_reads_the_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = Spec(name="features", target="kubernetes", online_store="redis", online_ttl_days=2)
    text = feast_config.render(spec, _target(account=None, namespace="fraud-dev"))
    assert "password=${FEAST_REDIS_PASSWORD}" in text
    assert "# Set FEAST_REDIS_PASSWORD from Secret fraud-dev-features-redis-auth (key password)" in text
    path = tmp_path / "feature_store.yaml"
    path.write_text(text)
    monkeypatch.setenv("FEAST_REDIS_PASSWORD", "s3cret")
    config = repo_config.load_repo_config(tmp_path, path)
    assert config.online_store.connection_string == (
        "fraud-dev-features-redis.fraud-dev.svc.cluster.local:6379,password=s3cret"
    )
    assert config.online_store.key_ttl_seconds == 2 * 86400
    assert (config.provider, config.registry.path, config.offline_store.type) == ("local", "data/registry.db", "file")
    assert os.environ["FEAST_REDIS_PASSWORD"] not in text


def test_yaml_is_plain_block_yaml() -> None:
    text = feast_config.to_yaml({"a": {"b": "x", "c": {}}, "d": None, "e": 3})
    assert text == 'a:\n  b: "x"\n  c: {}\nd: null\ne: 3\n'
    assert yaml.safe_load(text) == {"a": {"b": "x", "c": {}}, "d": None, "e": 3}
