"""A required field left out."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", min_instances=2, max_instances=4),
    ],
)
