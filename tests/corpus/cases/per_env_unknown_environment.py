"""per_env naming an environment the platform does not have."""

from mlplatform import ModelEndpoint, Platform, per_env

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=per_env(dev=1, production=2), max_instances=4),
    ],
)
