"""An online feature view on a FeatureStore with no online store."""

from mlplatform import FeatureStore, FeatureView, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(name="features", online_store="none", feature_views=[FeatureView(name="card_activity")]),
    ],
)
