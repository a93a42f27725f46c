"""A file that defines no Platform."""

from mlplatform import ModelEndpoint

endpoint = ModelEndpoint(name="scorer", model="fraud-xgb")
