"""Artifact checksums: hashing at registration and verification of what S3 stored.

What is verified, and how: at registration the client hashes the artifact (SHA-256 of the
whole file, and of each part of `part_size` bytes) and records both in the manifest. Every
write into a registry (upload, adopt, promote) asks S3 to compute a SHA-256 checksum of what it
stored (ChecksumAlgorithm=SHA256): for an object written in one request that is the SHA-256 of
the whole object; for a multipart write it is S3's composite checksum, SHA-256 over the parts'
SHA-256 digests. Promotion copies with the same part size as registration, so the composite S3
computes over the copy must equal the one computed from the manifest's part digests. Reading
the object back is never needed. The writes themselves are in `transfer`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from mlplatform.promotion.aws import aws_errors
from mlplatform.promotion.errors import PromotionError

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 64 * MIB
MIN_PART_SIZE = 5 * MIB  # the S3 minimum for all parts but the last
PART_SIZE_ENV = "MLPLATFORM_PART_SIZE"


def part_size() -> int:
    """Part size for new registrations: 64 MiB, or MLPLATFORM_PART_SIZE bytes (at least 5 MiB)."""
    value = os.environ.get(PART_SIZE_ENV)
    if not value:
        return DEFAULT_PART_SIZE
    try:
        size = int(value)
    except ValueError:
        raise PromotionError(f"{PART_SIZE_ENV}={value!r} is not a number of bytes") from None
    if size < MIN_PART_SIZE:
        raise PromotionError(f"{PART_SIZE_ENV}={size} is below the S3 minimum part size of {MIN_PART_SIZE} bytes")
    return size


@dataclass
class Digest:
    """SHA-256 of an artifact, whole and per part."""

    sha256: str  # hex, of the whole artifact
    size: int
    part_size: int
    part_sha256: list[str] = field(default_factory=list)  # hex, one per part

    @property
    def multipart(self) -> bool:
        """Whether S3 writes it in parts (boto3's managed transfer: size >= threshold = part size)."""
        return self.size >= self.part_size

    def s3_checksum(self) -> str:
        """The ChecksumSHA256 S3 reports for this artifact uploaded with `part_size` parts (base64):
        one request below the part size, multipart from it."""
        return self.composite() if self.multipart else base64.b64encode(bytes.fromhex(self.sha256)).decode()

    def composite(self) -> str:
        """S3's checksum of a multipart object of these parts: SHA-256 of the parts' SHA-256s, -N."""
        joined = b"".join(bytes.fromhex(p) for p in self.part_sha256)
        return f"{base64.b64encode(hashlib.sha256(joined).digest()).decode()}-{len(self.part_sha256)}"

    def matches(self, stored: str) -> bool:
        """Whether a checksum S3 reports is this artifact's: the plain SHA-256 (written in one
        request) or the composite of its parts (multipart, as every copy is; S3 appends -N,
        the emulator does not). Both derive from the digests registration recorded."""
        plain = base64.b64encode(bytes.fromhex(self.sha256)).decode()
        return stored.split("-", 1)[0] in (plain, self.composite().split("-", 1)[0])


def hash_stream(stream: BinaryIO, size_hint: int, part: int, progress: Callable[[int], None] | None = None) -> Digest:
    whole = hashlib.sha256()
    parts: list[str] = []
    current = hashlib.sha256()
    filled = 0
    total = 0
    chunk = MIB
    while True:
        data = stream.read(min(chunk, part - filled))
        if not data:
            break
        whole.update(data)
        current.update(data)
        filled += len(data)
        total += len(data)
        if filled == part:
            parts.append(current.hexdigest())
            current, filled = hashlib.sha256(), 0
        if progress:
            progress(len(data))
    if filled:
        parts.append(current.hexdigest())
    return Digest(whole.hexdigest(), total, part, parts)


def transfer_config(part: int) -> Any:
    """boto3 managed-transfer settings with the same part size and concurrency as ours (the
    benchmark's baseline copy uses them)."""
    from boto3.s3.transfer import TransferConfig

    from mlplatform.promotion.transfer import concurrency

    return TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=concurrency())


def stored_checksum(s3: Any, bucket: str, key: str, what: str) -> tuple[str | None, int]:
    """(ChecksumSHA256, size) S3 holds for an object; checksum None when it has none."""
    with aws_errors(what):
        try:
            head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise PromotionError(f"{what}: s3://{bucket}/{key} does not exist") from None
            raise
    return head.get("ChecksumSHA256"), int(head["ContentLength"])


def verify(s3: Any, bucket: str, key: str, digest: Digest, what: str) -> None:
    """Compare the checksum S3 computed over the stored object with the recorded one: the plain
    SHA-256 for an object written in one request, the composite of the parts for a multipart one."""
    checksum, size = stored_checksum(s3, bucket, key, what)
    uri = f"s3://{bucket}/{key}"
    if size != digest.size:
        raise PromotionError(f"{what}: checksum mismatch: {uri} is {size} bytes, the manifest records {digest.size}")
    if checksum is None:
        raise PromotionError(
            f"{what}: checksum mismatch: {uri} has no SHA-256 checksum in S3; it was not written by mlplatform"
        )
    if not digest.matches(checksum):
        raise PromotionError(
            f"{what}: checksum mismatch: S3 reports SHA-256 {checksum} for {uri}, the manifest records "
            f"{digest.s3_checksum()} (sha256 {digest.sha256}); the artifact is corrupted or was replaced"
        )
