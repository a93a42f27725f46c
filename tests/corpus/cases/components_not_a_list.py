"""A single component where the list of components is expected."""

from mlplatform import FeatureStore, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=FeatureStore(name="features"),
)
