"""A DynamoDB online store on a Kubernetes feature store."""

from mlplatform import FeatureStore, Platform

platform = Platform(
    name="recs",
    team="personalization",
    components=[
        FeatureStore(name="features", target="kubernetes"),
    ],
)
