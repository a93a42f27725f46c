"""per_env with no value for an environment and no default."""

from mlplatform import ModelEndpoint, Platform, per_env

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=per_env(dev=1, prod=2), max_instances=4),
    ],
)
