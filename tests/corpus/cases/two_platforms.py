"""A file that defines two Platforms."""

from mlplatform import Platform

fraud = Platform(name="fraud", team="risk-ml")

recs = Platform(name="recs", team="personalization")
