"""The environments list itself given per_env."""

from mlplatform import Platform, per_env

platform = Platform(
    name="fraud",
    team="risk-ml",
    environments=per_env(dev=["dev"], default=["dev", "prod"]),
)
