"""online_ttl_days on DynamoDB-only Feast tables, which have no expiry attribute."""

from mlplatform import FeatureStore, FeatureView, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(name="features", online_ttl_days=30, feature_views=[FeatureView(name="card_activity")]),
    ],
)
