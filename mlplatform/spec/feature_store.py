"""FeatureStore: offline features on S3, online features in DynamoDB or Redis."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlplatform.spec.base import Name, SpecModel

FeatureStoreOptOut = Literal["kms_encryption", "versioning", "access_logging", "point_in_time_recovery"]


class Feature(SpecModel):
    name: str = Field(pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$", description="Feature name.")
    type: Literal["Integral", "Fractional", "String"] = Field(
        "Fractional", description="SageMaker feature type. Omitted: Fractional."
    )


class FeatureGroup(SpecModel):
    """A SageMaker Feature Group, online and offline, encrypted with the platform key."""

    name: Name
    record_identifier: str = Field(description="Feature holding the record id.")
    event_time_feature: str = Field("event_time", description="Feature holding the event time.")
    features: list[Feature] = Field(min_length=1, description="Features of the group (at least one).")


class FeatureStore(SpecModel):
    kind: Literal["FeatureStore"] = "FeatureStore"
    name: Name
    target: Literal["aws", "kubernetes"] = Field(
        "aws",
        description="aws: S3 offline store and DynamoDB online store. kubernetes: Redis online "
        "store on the cluster, S3 offline store when the platform has AWS. Omitted: aws.",
    )
    online_store: Literal["dynamodb", "redis", "none"] = Field(
        "dynamodb", description="Online store backend. Omitted: DynamoDB (on-demand, PITR, KMS)."
    )
    offline_retention_days: int = Field(
        365, ge=1, le=3650, description="Days offline feature files are kept. Omitted: 365."
    )
    online_ttl_days: int | None = Field(
        None, ge=1, description="Days before online records expire. Omitted: records never expire."
    )
    feature_groups: list[FeatureGroup] = Field(
        default_factory=list, description="SageMaker Feature Groups to declare. Omitted: none."
    )
    redis_storage_gb: int = Field(
        10, ge=1, le=1000, description="Volume size of the Redis online store. Omitted: 10 GB."
    )
    opt_out: list[FeatureStoreOptOut] = Field(
        default_factory=list,
        description="Secure defaults to turn off, by name; each is reported in every plan. Omitted: all on.",
    )
