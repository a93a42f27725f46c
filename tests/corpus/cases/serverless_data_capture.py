"""Data capture on a serverless SageMaker endpoint."""

from mlplatform import ModelEndpoint, Platform, Serverless

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", serverless=Serverless(), data_capture_percent=20),
    ],
)
