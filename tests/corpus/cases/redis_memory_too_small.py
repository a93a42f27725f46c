"""A Redis online store with less memory than Redis needs."""

from mlplatform import FeatureStore, Platform

platform = Platform(
    name="recs",
    team="personalization",
    components=[
        FeatureStore(name="features", target="kubernetes", online_store="redis", redis_memory="128Mi"),
    ],
)
