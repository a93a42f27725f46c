"""FeatureStore: offline features on S3, online features in DynamoDB or Redis, served by Feast."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

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


class FeatureView(SpecModel):
    """A Feast feature view of the team's Feast repo (a FeatureView, a StreamFeatureView, or an
    OnDemandFeatureView with write_to_online_store=True), by its Feast name.

    The platform creates the online table Feast uses for each online view, with the platform's
    secure defaults, so `feast apply` finds it and creates nothing. A view the repo has but the
    blueprint does not declare has no table: `feast apply` then fails on the CreateTable it is
    not allowed to make.
    """

    name: str = Field(pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$", description="The view's name in the Feast repo.")
    online: bool = Field(
        True, description="Served online (Feast's online=True): it gets an online table. Omitted: True."
    )


class FeatureStore(SpecModel):
    kind: Literal["FeatureStore"] = "FeatureStore"
    name: Name
    target: Literal["aws", "kubernetes"] = Field(
        "aws",
        description="aws: S3 offline store and DynamoDB online store. kubernetes: Redis online "
        "store on the cluster, S3 offline store when the platform has AWS. Omitted: aws.",
    )
    online_store: Literal["dynamodb", "redis", "none"] = Field(
        "dynamodb",
        description="Feast's online store. dynamodb: one table per online feature view (on-demand, PITR, "
        "KMS). Omitted: dynamodb.",
    )
    offline_retention_days: int = Field(
        365,
        ge=1,
        le=3650,
        description="Days feature data under the offline bucket's data prefixes is kept (the Feast registry "
        "is never expired). Omitted: 365.",
    )
    online_ttl_days: int | None = Field(
        None,
        ge=1,
        description="Days before online records expire: SageMaker Feature Groups' TTL and Redis key TTL "
        "(Feast's key_ttl_seconds). Feast's DynamoDB tables have no expiry. Omitted: records never expire.",
    )
    feature_views: list[FeatureView] = Field(
        default_factory=list,
        description="The Feast feature views of the team's Feast repo. Omitted: none (no online tables).",
    )
    feature_groups: list[FeatureGroup] = Field(
        default_factory=list, description="SageMaker Feature Groups to declare. Omitted: none."
    )
    redis_storage_gb: int = Field(
        10, ge=1, le=1000, description="Volume size of the Redis online store. Omitted: 10 GB."
    )
    redis_memory: str = Field(
        "1Gi",
        pattern=r"^\d+(Mi|Gi)$",
        description="Memory request and limit of the Redis container; Redis's maxmemory is half of it "
        "(an AOF rewrite may double Redis's memory). Omitted: 1Gi.",
    )
    opt_out: list[FeatureStoreOptOut] = Field(
        default_factory=list,
        description="Secure defaults to turn off, by name; each is reported in every plan. Omitted: all on.",
    )

    def online_views(self) -> list[FeatureView]:
        """The feature views that get an online table (none without an online store)."""
        return [v for v in self.feature_views if v.online] if self.online_store != "none" else []

    def problems(self) -> Iterator[tuple[tuple[Any, ...], str]]:
        """(field path, message) for what the fields say together that no field says alone."""
        seen: dict[str, int] = {}
        for j, view in enumerate(self.feature_views):
            if view.name in seen:
                yield (
                    ("feature_views", j, "name"),
                    f"feature view '{view.name}' is declared twice (also feature_views[{seen[view.name]}]); "
                    "Feast names are unique within a project",
                )
            seen.setdefault(view.name, j)
            if view.online and self.online_store == "none":
                yield (
                    ("feature_views", j, "online"),
                    f"feature view '{view.name}' is online but online_store='none'; set online=False, "
                    "or choose an online store",
                )
        if self.online_ttl_days is not None and self.online_store != "redis" and not self.feature_groups:
            why = (
                "Feast's DynamoDB tables have no expiry attribute"
                if self.online_store == "dynamodb"
                else ("there is no online store")
            )
            yield (
                ("online_ttl_days",),
                f"expires nothing here: {why} and there are no feature_groups (it applies to SageMaker "
                "Feature Groups and Redis); remove it",
            )
        if self.redis_memory_mib() < 256:
            yield (("redis_memory",), f"Redis needs at least 256Mi; got '{self.redis_memory}'")

    def redis_memory_mib(self) -> int:
        number = int(self.redis_memory[:-2])
        return number * 1024 if self.redis_memory.endswith("Gi") else number
