"""A monitoring stack watching an endpoint that does not exist."""

from mlplatform import ModelEndpoint, MonitoringStack, Platform, per_env

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=per_env(dev=1, default=2), max_instances=4),
        MonitoringStack(name="monitoring", endpoints=["scorer", "ranker"]),
    ],
)
