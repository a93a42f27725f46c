"""A canary rollout that no monitoring stack watches."""

from mlplatform import Canary, ModelEndpoint, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=2, max_instances=4, deployment=Canary()),
    ],
)
