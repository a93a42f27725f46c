"""Two aws monitoring stacks watch one endpoint: their alarms would have the same names."""

from mlplatform import ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    environments=["dev"],
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb"),
        MonitoringStack(name="monitoring", endpoints=["scorer"]),
        MonitoringStack(name="paging", endpoints=["scorer"]),
    ],
)
