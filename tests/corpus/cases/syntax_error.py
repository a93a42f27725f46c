"""A Python syntax error."""

from mlplatform import Platform

platform = Platform(
    name="fraud",
    team="risk-ml"
    region="us-east-1",
)
