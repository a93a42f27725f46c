"""A positional argument to a declaration."""

from mlplatform import Platform

platform = Platform("fraud", team="risk-ml")
