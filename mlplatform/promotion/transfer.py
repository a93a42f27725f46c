"""Write-once uploads and server-side copies into a registry.

Registry keys under models/ are write-once: every write carries `If-None-Match: *`, and the
registry's bucket policy denies writes there without it (S3 "Enforce conditional writes"). A
write-once bucket accepts `PutObject` and `CompleteMultipartUpload` with the header, and no
`CopyObject` at all, so a copy is always a multipart upload of `UploadPartCopy` parts (one part
for a small artifact), completed with `If-None-Match: *`. Parts have the registration's part
size, so S3's composite SHA-256 of the copy can be compared with the manifest's.

boto3's managed transfer cannot send `If-None-Match` on completion; this module does the parts
itself, several in flight at once (MLPLATFORM_TRANSFER_CONCURRENCY, default 8).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mlplatform.promotion.aws import aws_errors, error_code
from mlplatform.promotion.checkpoints import checkpoint
from mlplatform.promotion.errors import PromotionError

CONCURRENCY_ENV = "MLPLATFORM_TRANSFER_CONCURRENCY"
CONFLICT = ("PreconditionFailed", "ConditionalRequestConflict")


class AlreadyExists(PromotionError):
    """The key exists: registry keys are never overwritten."""


def concurrency() -> int:
    value = os.environ.get(CONCURRENCY_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else 8


def _ranges(size: int, part: int) -> list[tuple[int, int]]:
    if size == 0:
        return [(0, -1)]
    return [(start, min(start + part, size) - 1) for start in range(0, size, part)]


def put_once(s3: Any, bucket: str, key: str, body: bytes, extra: dict[str, Any], what: str) -> bool:
    """A small JSON object written once (If-None-Match, S3's SHA-256): True when written, False
    when the key already exists (the caller decides whether what is there is the same)."""
    with aws_errors(what):
        try:
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",
                **extra,
            )
            return True
        except s3.exceptions.ClientError as exc:
            if error_code(exc) not in CONFLICT:
                raise
    return False


def upload(
    s3: Any,
    path: str,
    bucket: str,
    key: str,
    size: int,
    part: int,
    extra: dict[str, Any],
    progress: Callable[[int], None] | None,
    what: str,
) -> None:
    """Upload a local file once: a single PutObject below the part size, else multipart."""
    if size < part:
        with open(path, "rb") as handle, aws_errors(what):
            try:
                s3.put_object(
                    Bucket=bucket, Key=key, Body=handle.read(), IfNoneMatch="*", ChecksumAlgorithm="SHA256", **extra
                )
            except s3.exceptions.ClientError as exc:
                _conflict(exc, bucket, key, what)
                raise
        if progress:
            progress(size)
        return

    def send(number: int, first: int, last: int, upload_id: str) -> dict[str, Any]:
        with open(path, "rb") as handle:
            handle.seek(first)
            body = handle.read(last - first + 1)
        done = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, ChecksumAlgorithm="SHA256"
        )
        if progress:
            progress(len(body))
        return _part(number, done)

    _multipart(s3, bucket, key, size, part, extra, send, what)


def copy(
    s3: Any,
    source: tuple[str, str],
    bucket: str,
    key: str,
    size: int,
    part: int,
    extra: dict[str, Any],
    progress: Callable[[int], None] | None,
    what: str,
) -> None:
    """Server-side copy in `part`-sized UploadPartCopy parts: no artifact bytes pass through here."""
    copy_source = {"Bucket": source[0], "Key": source[1]}

    def send(number: int, first: int, last: int, upload_id: str) -> dict[str, Any]:
        args: dict[str, Any] = {"CopySourceRange": f"bytes={first}-{last}"} if last >= first else {}
        done = s3.upload_part_copy(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, CopySource=copy_source, **args
        )["CopyPartResult"]
        if progress:
            progress(last - first + 1)
        checkpoint("copy-started")  # fault tests stop here: a part is copied, the upload is not complete
        return _part(number, done)

    checkpoint("before-copy")
    _multipart(s3, bucket, key, size, part, extra, send, what)


def _multipart(
    s3: Any,
    bucket: str,
    key: str,
    size: int,
    part: int,
    extra: dict[str, Any],
    send: Callable[[int, int, int, str], dict[str, Any]],
    what: str,
) -> None:
    with aws_errors(what):
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256", **extra)["UploadId"]
    completed = False
    try:
        ranges = _ranges(size, part)
        pool = ThreadPoolExecutor(max_workers=min(concurrency(), len(ranges)))
        try:
            with aws_errors(what):
                futures = [pool.submit(send, i + 1, first, last, upload_id) for i, (first, last) in enumerate(ranges)]
                parts = [f.result() for f in futures]
        finally:  # on Ctrl-C or a failed part, parts not started are not started
            pool.shutdown(wait=True, cancel_futures=True)
        with aws_errors(what):
            try:
                s3.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
                )
            except s3.exceptions.ClientError as exc:
                _conflict(exc, bucket, key, what)
                raise
        completed = True
    finally:
        if not completed:  # an interrupted or failed transfer leaves no parts behind (best effort)
            with contextlib.suppress(Exception):  # the original failure is the one to report
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def _part(number: int, done: dict[str, Any]) -> dict[str, Any]:
    """A completed part; S3 returns its SHA-256 (the emulator does not for UploadPartCopy)."""
    part = {"PartNumber": number, "ETag": done["ETag"]}
    if done.get("ChecksumSHA256"):
        part["ChecksumSHA256"] = done["ChecksumSHA256"]
    return part


def _conflict(exc: Any, bucket: str, key: str, what: str) -> None:
    if error_code(exc) in CONFLICT:
        raise AlreadyExists(
            f"{what}: s3://{bucket}/{key} already exists; registry keys are write-once, so it was not replaced"
        ) from None
