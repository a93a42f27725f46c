"""An EC2 instance type given to a SageMaker endpoint."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", instance_type="m5.xlarge", min_instances=2, max_instances=4),
    ],
)
