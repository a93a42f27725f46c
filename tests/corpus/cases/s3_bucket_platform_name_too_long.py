"""A platform name too long for the model registry bucket in one environment."""

from mlplatform import Platform

platform = Platform(
    name="card-fraud-detection-eu-team",
    team="risk-ml",
)
