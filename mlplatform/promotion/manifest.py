"""The manifest of a model version: what was registered, by whom, and its checksums.

Stored as JSON next to the artifact (naming.manifest_key), written with If-None-Match like
everything under models/: a version, once in a registry, is never overwritten. Promotion writes
a copy into the target registry recording where it came from; a re-run finds it and checks it
describes the same bytes.

The serving image is pinned by digest (`repo@sha256:...`): a tag can be moved to other bytes
after a version was approved, a digest cannot.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from mlplatform import naming
from mlplatform.promotion import transfer
from mlplatform.promotion.artifacts import Digest
from mlplatform.promotion.aws import Aws, aws_errors, error_code
from mlplatform.promotion.errors import PromotionError

SCHEMA = 1
_PINNED = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")


def image_problem(image: str) -> str | None:
    """Why an image reference cannot be registered or approved, or None if it is pinned by digest."""
    if _PINNED.match(image):
        return None
    repo = image.split("@", 1)[0].rsplit(":", 1)[0] if "/" in image else image
    return (
        f"image {image} is not pinned by digest: a tag can later point at other bytes than the ones approved. "
        f"Pass --image {repo}@sha256:<digest> (`docker buildx imagetools inspect {image}`, or "
        "`aws ecr describe-images --repository-name REPO --image-ids imageTag=TAG "
        "--query 'imageDetails[0].imageDigest'`)"
    )


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
    lineage: dict[str, Any] | None = None  # register --from-mlflow: run, experiment, params, metrics, commit
    baseline: dict[str, str] | None = None  # register --baseline: SHA-256 of statistics.json, constraints.json
    schema: int = SCHEMA

    @property
    def digest(self) -> Digest:
        return Digest(self.sha256, self.size, self.part_size, list(self.part_sha256))

    def same_version(self, other: Manifest) -> bool:
        """Whether two manifests describe the same bytes and image (provenance fields may differ)."""
        fields = ("model", "version", "filename", "sha256", "size", "part_size", "part_sha256", "image", "baseline")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

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


def write(aws: Aws, manifest: Manifest, adopt_same: bool = False) -> None:
    """Write the manifest once. With `adopt_same`, an existing manifest of the same bytes (a
    promotion run again) is accepted; any other existing manifest is refused."""
    bucket, key = aws.registry_bucket, naming.manifest_key(manifest.model, manifest.version)
    body, what = manifest.to_json().encode(), f"{aws.env.name}: writing s3://{bucket}/{key}"
    if transfer.put_once(aws.s3, bucket, key, body, aws.encryption_args(), what):
        return
    existing = read(aws, manifest.model, manifest.version) if adopt_same else None
    if existing is not None and existing.same_version(manifest):
        return
    if not adopt_same:
        raise PromotionError(f"{aws.env.name}: {manifest.model} version {manifest.version} is already registered")
    raise PromotionError(
        f"{aws.env.name}: s3://{bucket}/{key} already exists and describes other bytes than {manifest.model} "
        f"{manifest.version} being promoted (sha256 {getattr(existing, 'sha256', '?')}, not {manifest.sha256}); "
        "registry keys are write-once and mlplatform did not write this one: investigate before promoting"
    )


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
