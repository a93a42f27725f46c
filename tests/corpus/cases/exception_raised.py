"""The blueprint raises while it runs."""

from mlplatform import ModelEndpoint, Platform

SIZES = {"dev": 1, "prod": 4}

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=SIZES["staging"], max_instances=4),
    ],
)
