"""A linear step of 5%: SageMaker's LinearStepSize must be 10-50% of the instances."""

from mlplatform import Linear, ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(
            name="scorer", model="fraud-xgb", min_instances=4, max_instances=8, deployment=Linear(step_percent=5)
        ),
        MonitoringStack(name="monitoring", endpoints=["scorer"]),
    ],
)
