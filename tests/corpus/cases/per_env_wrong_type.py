"""A per_env value of the wrong type, in one environment only."""

from mlplatform import ModelEndpoint, Platform, per_env

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=2, max_instances=per_env(dev="two", default=4)),
    ],
)
