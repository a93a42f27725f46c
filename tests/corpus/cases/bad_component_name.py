"""A component name that cannot be part of AWS and Kubernetes names."""

from mlplatform import FeatureStore, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(name="Features_1"),
    ],
)
