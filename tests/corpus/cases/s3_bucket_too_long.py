"""A feature store whose offline-store bucket name exceeds 63 characters with the prefix."""

from mlplatform import FeatureStore, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(name="transaction-features-for-scoring"),
    ],
)
