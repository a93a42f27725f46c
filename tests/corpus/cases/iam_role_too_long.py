"""A training cluster whose IAM role names exceed 64 characters in staging only."""

from mlplatform import Platform, TrainingCluster

platform = Platform(
    name="fraud-detection-plat",
    team="risk-ml",
    components=[
        TrainingCluster(name="distributed-xgboost-trainer-gpu", existing_cluster="shared-eks"),
    ],
)
