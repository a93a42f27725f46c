"""A canary of 50% on 3 instances: 2 instances per step, more than half of the fleet."""

from mlplatform import Canary, ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    environments=["dev"],
    components=[
        ModelEndpoint(
            name="scorer", model="fraud-xgb", min_instances=3, max_instances=6, deployment=Canary(percent=50)
        ),
        MonitoringStack(name="monitoring", endpoints=["scorer"]),
    ],
)
