"""Feast itself accepts the feature_store.yaml a FeatureStore outputs (Feast's own RepoConfig)."""

from __future__ import annotations

import pulumi
import pytest
import yaml
from feast import repo_config  # a test dependency: Feast's own config class judges the YAML

from mlplatform.components.aws.feature_store import FeatureStore, FeatureStoreArgs
from mlplatform.spec.feature_store import FeatureStore as Spec
from tests.components.aws.helpers import ACCESS_LOGS, ACCOUNT, KEY_ARN, REGION, TAGS, names
from tests.components.conftest import run


def _yaml(online_store: str) -> str:
    def program() -> None:
        store = FeatureStore(
            "features",
            FeatureStoreArgs(
                spec=Spec(name="features", online_store=online_store),  # type: ignore[arg-type]
                names=names(),
                tags=TAGS,
                account_id=ACCOUNT,
                region=REGION,
                kms_key_arn=KEY_ARN,
                access_logs_bucket=ACCESS_LOGS,
            ),
        )
        pulumi.export("yaml", store.feast_yaml)

    return str(run(program).outputs["yaml"])


@pytest.mark.parametrize("online_store", ["dynamodb", "none"])
def test_feast_repo_config_accepts_the_output(online_store: str) -> None:
    data = yaml.safe_load(_yaml(online_store))
    config = repo_config.RepoConfig(**data, repo_path=None)
    assert config.provider == "aws"
    assert config.offline_store.type == "athena"
    assert config.offline_store.database == "fraud_dev_features"
    assert config.offline_store.s3_staging_location == f"s3://fraud-dev-features-offline-{ACCOUNT}/athena-results"
    if online_store == "dynamodb":
        assert config.online_store.type == "dynamodb"
        assert config.online_store.region == REGION
    else:
        assert config.online_store is None
