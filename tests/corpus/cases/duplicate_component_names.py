"""Two components with the same name."""

from mlplatform import FeatureStore, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(name="features"),
        FeatureStore(name="features", online_store="none"),
    ],
)
