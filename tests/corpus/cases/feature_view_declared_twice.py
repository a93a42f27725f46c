"""The same Feast feature view declared twice."""

from mlplatform import FeatureStore, FeatureView, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(
            name="features",
            feature_views=[FeatureView(name="card_activity"), FeatureView(name="card_activity")],
        ),
    ],
)
