"""Unknown field on a component, a near miss of a real one."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", instance_typ="ml.m5.large", min_instances=2, max_instances=4),
    ],
)
