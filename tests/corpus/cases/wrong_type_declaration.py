"""A number where a declaration (Quota(...)) is expected."""

from mlplatform import Platform, TrainingCluster

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        TrainingCluster(name="train", existing_cluster="shared-eks", quota=8),
    ],
)
