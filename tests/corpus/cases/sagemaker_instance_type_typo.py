"""A SageMaker instance type that does not exist, close to one that does."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", instance_type="ml.m5.xlarg", min_instances=2, max_instances=4),
    ],
)
