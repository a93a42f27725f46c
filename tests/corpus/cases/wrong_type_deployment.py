"""A string where a rollout strategy declaration is expected."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=2, max_instances=4, deployment="canary"),
    ],
)
