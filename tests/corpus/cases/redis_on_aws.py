"""A Redis online store on an AWS feature store."""

from mlplatform import FeatureStore, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(name="features", online_store="redis"),
    ],
)
