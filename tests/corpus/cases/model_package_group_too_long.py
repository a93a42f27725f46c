"""A model name too long for its SageMaker model package group."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="fraud-detection-platform",
    team="risk-ml",
    components=[
        ModelEndpoint(
            name="scorer",
            model="transaction-fraud-gradient-boosted-v2",
            min_instances=2,
            max_instances=4,
        ),
    ],
)
