"""Importing a name mlplatform does not have."""

from mlplatform import Endpoint, Platform

platform = Platform(name="fraud", team="risk-ml", components=[Endpoint(name="scorer", model="fraud-xgb")])
