"""per_env inside per_env."""

from mlplatform import ModelEndpoint, Platform, per_env

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(
            name="scorer",
            model="fraud-xgb",
            min_instances=2,
            max_instances=per_env(dev=per_env(dev=2), default=4),
        ),
    ],
)
