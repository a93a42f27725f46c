"""Artifact checksums, upload and server-side copy with verification.

What is verified, and how: at registration the client hashes the artifact (SHA-256 of the
whole file, and of each part of `part_size` bytes) and records both in the manifest. Every
write into a registry (upload, adopt, promote) asks S3 to compute a SHA-256 checksum of what it
stored (ChecksumAlgorithm=SHA256): for an object written in one request that is the SHA-256 of
the whole object; for a multipart write it is S3's composite checksum, SHA-256 over the parts'
SHA-256 digests. Promotion copies with the same part size as registration, so the composite S3
computes over the copy must equal the one computed from the manifest's part digests. Reading
the object back is never needed, and the promote path moves no artifact bytes through the client.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from mlplatform.promotion.aws import aws_errors
from mlplatform.promotion.checkpoints import checkpoint
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
        """The ChecksumSHA256 S3 reports for this artifact written with `part_size` parts (base64)."""
        if not self.multipart:
            return base64.b64encode(bytes.fromhex(self.sha256)).decode()
        joined = b"".join(bytes.fromhex(p) for p in self.part_sha256)
        return f"{base64.b64encode(hashlib.sha256(joined).digest()).decode()}-{len(self.part_sha256)}"


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


CONCURRENCY_ENV = "MLPLATFORM_TRANSFER_CONCURRENCY"


def transfer_config(part: int) -> Any:
    """Managed transfer settings: multipart at `part` bytes and above, in `part`-sized parts (the
    part size the manifest records), 8 parts in flight unless MLPLATFORM_TRANSFER_CONCURRENCY says."""
    from boto3.s3.transfer import TransferConfig

    concurrency = os.environ.get(CONCURRENCY_ENV, "")
    workers = int(concurrency) if concurrency.isdigit() and int(concurrency) > 0 else 8
    return TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=workers)


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
    """Compare the checksum S3 computed over the stored object with the recorded one."""
    checksum, size = stored_checksum(s3, bucket, key, what)
    uri = f"s3://{bucket}/{key}"
    if size != digest.size:
        raise PromotionError(f"{what}: checksum mismatch: {uri} is {size} bytes, the manifest records {digest.size}")
    if checksum is None:
        raise PromotionError(
            f"{what}: checksum mismatch: {uri} has no SHA-256 checksum in S3; it was not written by mlplatform"
        )
    if _normal(checksum) != _normal(digest.s3_checksum()):
        raise PromotionError(
            f"{what}: checksum mismatch: S3 reports SHA-256 {checksum} for {uri}, the manifest records "
            f"{digest.s3_checksum()} (sha256 {digest.sha256}); the artifact is corrupted or was replaced"
        )


def _normal(checksum: str) -> str:
    return checksum.split("-", 1)[0]


def upload(
    s3: Any,
    path: str,
    bucket: str,
    key: str,
    digest: Digest,
    extra: dict[str, str],
    progress: Callable[[int], None] | None,
    what: str,
) -> None:
    args = {"ChecksumAlgorithm": "SHA256", "Metadata": {"sha256": digest.sha256}, **extra}
    with aws_errors(what):
        s3.upload_file(path, bucket, key, ExtraArgs=args, Config=transfer_config(digest.part_size), Callback=progress)
    verify(s3, bucket, key, digest, what)


def copy(
    s3: Any,
    source: tuple[str, str],
    bucket: str,
    key: str,
    digest: Digest,
    extra: dict[str, str],
    progress: Callable[[int], None] | None,
    what: str,
    source_client: Any = None,
) -> None:
    """Server-side managed copy (CopyObject, or UploadPartCopy parts for large objects) with S3
    computing SHA-256 of the copy, then verified against the digest. No artifact bytes pass
    through this process: S3 reads the source and writes the target."""

    def on_progress(done: int) -> None:
        checkpoint("copy-started")
        if progress:
            progress(done)

    checkpoint("before-copy")
    args = {"ChecksumAlgorithm": "SHA256", **extra}
    with aws_errors(what):
        s3.copy(
            {"Bucket": source[0], "Key": source[1]},
            bucket,
            key,
            ExtraArgs=args,
            Config=transfer_config(digest.part_size),
            Callback=on_progress,
            SourceClient=source_client or s3,
        )
    verify(s3, bucket, key, digest, what)
