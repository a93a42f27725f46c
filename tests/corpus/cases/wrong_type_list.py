"""A single name where a list of names is expected."""

from mlplatform import ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=2, max_instances=4),
        MonitoringStack(name="monitoring", endpoints="scorer"),
    ],
)
