"""A canary rollout on a single instance: SageMaker allows a canary step of at most half the fleet."""

from mlplatform import Canary, ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    environments=["dev"],
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=1, max_instances=4, deployment=Canary()),
        MonitoringStack(name="monitoring", endpoints=["scorer"]),
    ],
)
