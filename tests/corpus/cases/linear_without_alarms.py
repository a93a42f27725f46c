"""A linear rollout that no monitoring stack watches."""

from mlplatform import Linear, ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=2, max_instances=4, deployment=Linear()),
        ModelEndpoint(name="ranker", model="fraud-rank", min_instances=2, max_instances=4),
        MonitoringStack(name="monitoring", endpoints=["ranker"]),
    ],
)
