"""An environment name that cannot prefix resource names."""

from mlplatform import Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    environments=["dev", "Production"],
)
