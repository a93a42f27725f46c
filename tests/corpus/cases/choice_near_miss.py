"""A value outside a field's choices, with a near miss."""

from mlplatform import FeatureStore, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(name="features", online_store="dynamo"),
    ],
)
