"""Importing a module that is not installed."""

from mlplatform import Platform

import fraud_helpers  # noqa: F401

platform = Platform(name="fraud", team="risk-ml")
