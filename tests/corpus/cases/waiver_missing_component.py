"""A waiver naming a component that does not exist."""

from mlplatform import FeatureStore, Platform, Waiver

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        FeatureStore(name="features"),
    ],
    waivers=[
        Waiver(rule="MLP-S3-001", reason="bucket shared with the legacy pipeline", component="feature"),
    ],
)
