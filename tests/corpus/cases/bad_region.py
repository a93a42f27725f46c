"""A region that is not an AWS region name."""

from mlplatform import Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    region="US East",
)
