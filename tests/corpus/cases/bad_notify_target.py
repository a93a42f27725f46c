"""A notification target that is neither an email nor an https URL."""

from mlplatform import ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=2, max_instances=4),
        MonitoringStack(name="monitoring", endpoints=["scorer"], notify=["oncall@example.com", "#fraud-oncall"]),
    ],
)
