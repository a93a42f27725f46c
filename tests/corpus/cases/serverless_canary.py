"""A canary rollout on a serverless endpoint, which SageMaker updates in place."""

from mlplatform import Canary, ModelEndpoint, MonitoringStack, Platform, Serverless

platform = Platform(
    name="fraud",
    team="risk-ml",
    environments=["dev"],
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", serverless=Serverless(), deployment=Canary()),
        MonitoringStack(name="monitoring", endpoints=["scorer"]),
    ],
)
