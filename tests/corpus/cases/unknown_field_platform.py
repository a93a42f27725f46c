"""Unknown field on the Platform itself."""

from mlplatform import Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    owner="alice@example.com",
)
