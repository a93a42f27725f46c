"""A SageMaker endpoint name over 63 characters with the prefix."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="fraud-detection-platform",
    team="risk-ml",
    environments=["dev", "prod"],
    components=[
        ModelEndpoint(
            name="transaction-scoring-realtime-api-v2",
            model="fraud-xgb",
            min_instances=2,
            max_instances=4,
        ),
    ],
)
