"""The manifest of a model version: what was registered, by whom, and its checksums.

Stored as JSON next to the artifact (naming.manifest_key). Registration writes it with
If-None-Match, so a version, once registered, is never overwritten; promotion writes a copy
into the target registry recording where it came from.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mlplatform import naming
from mlplatform.promotion.artifacts import Digest
from mlplatform.promotion.aws import Aws, aws_errors, error_code
from mlplatform.promotion.errors import PromotionError

SCHEMA = 1


@dataclass
class Manifest:
    model: str
    version: str
    filename: str
    sha256: str
    size: int
    part_size: int
    part_sha256: list[str]
    image: str
    metrics: dict[str, float] = field(default_factory=dict)
    git_commit: str | None = None
    registered_by: str = ""
    registered_at: str = ""
    registered_in: str = ""
    source_uri: str = ""  # the file or s3:// object it was registered from
    promoted_from: str | None = None
    promoted_at: str | None = None
    model_package_arn: str | None = None
    schema: int = SCHEMA

    @property
    def digest(self) -> Digest:
        return Digest(self.sha256, self.size, self.part_size, list(self.part_sha256))

    @property
    def key(self) -> str:
        return naming.artifact_key(self.model, self.version, self.filename)

    def uri(self, bucket: str) -> str:
        return f"s3://{bucket}/{self.key}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError) as exc:
            raise PromotionError(f"{where}: not a valid mlplatform manifest: {exc}") from None


def read(aws: Aws, model: str, version: str) -> Manifest | None:
    """The manifest of `version` in this environment's registry, or None if it is not there."""
    bucket, key = aws.registry_bucket, naming.manifest_key(model, version)
    with aws_errors(f"{aws.env.name}: reading s3://{bucket}/{key}"):
        try:
            body = aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except aws.s3.exceptions.ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
    return Manifest.from_json(body.decode("utf-8"), f"s3://{bucket}/{key}")


def write(aws: Aws, manifest: Manifest, exclusive: bool) -> None:
    bucket, key = aws.registry_bucket, naming.manifest_key(manifest.model, manifest.version)
    args: dict[str, Any] = {"IfNoneMatch": "*"} if exclusive else {}
    with aws_errors(f"{aws.env.name}: writing s3://{bucket}/{key}"):
        try:
            aws.s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=manifest.to_json().encode(),
                ContentType="application/json",
                **args,
                **aws.encryption_args(),
            )
        except aws.s3.exceptions.ClientError as exc:
            if exclusive and error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise PromotionError(
                    f"{aws.env.name}: {manifest.model} version {manifest.version} is already registered"
                ) from None
            raise


def versions(aws: Aws, model: str) -> list[str]:
    """Version folders under models/<model>/ (registered or claimed), oldest first."""
    prefix = f"{naming.REGISTRY_MODELS_PREFIX}{model}/"
    found: list[str] = []
    with aws_errors(f"{aws.env.name}: listing s3://{aws.registry_bucket}/{prefix}"):
        pages = aws.s3.get_paginator("list_objects_v2").paginate(
            Bucket=aws.registry_bucket, Prefix=prefix, Delimiter="/"
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                found.append(common["Prefix"][len(prefix) :].rstrip("/"))
    return sorted(found, key=version_sort_key)


def version_sort_key(version: str) -> tuple[int, int, str]:
    return (0, int(version), "") if version.isdigit() else (1, 0, version)
