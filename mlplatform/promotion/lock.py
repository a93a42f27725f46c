"""A lock per model and target environment: an S3 object created with If-None-Match.

Created before anything changes, deleted on every exit path (context manager). A process
killed with SIGKILL cannot delete it: the next run reports it as stale, naming the holder, and
`mlplatform unlock --force` removes it after checking that the holder is not alive here.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mlplatform import naming
from mlplatform.promotion.aws import Aws, aws_errors, error_code
from mlplatform.promotion.errors import LockHeld, PromotionError
from mlplatform.promotion.ledger import now


@dataclass
class LockInfo:
    operation: str
    user: str
    host: str
    pid: int
    at: str
    key: str = ""

    def alive(self) -> bool | None:
        """True/False when the holder runs on this host; None when that cannot be told."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def age_seconds(self) -> float:
        try:
            started = datetime.strptime(self.at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except ValueError:
            return 0.0
        return (datetime.now(UTC) - started).total_seconds()

    def describe(self) -> str:
        return (
            f"'{self.operation}' by {self.user} on {self.host} (pid {self.pid}) since {self.at} "
            f"({int(self.age_seconds())} s ago)"
        )


def read(aws: Aws, model: str) -> LockInfo | None:
    key = naming.lock_key(model)
    with aws_errors(f"{aws.env.name}: reading lock s3://{aws.registry_bucket}/{key}"):
        try:
            body = aws.s3.get_object(Bucket=aws.registry_bucket, Key=key)["Body"].read()
        except aws.s3.exceptions.ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
    try:
        data: dict[str, Any] = json.loads(body)
        return LockInfo(**{k: data[k] for k in ("operation", "user", "host", "pid", "at")}, key=key)
    except (ValueError, KeyError, TypeError):
        return LockInfo("unknown", "unknown", "unknown", 0, "", key)


def held_message(aws: Aws, model: str, info: LockInfo) -> str:
    env = aws.env.name
    unlock = f"mlplatform unlock {model} --env {env} --force"
    alive = info.alive()
    if alive is False:
        return (
            f"{env}: {model} is locked by {info.describe()}; that process is no longer running: the lock is stale. "
            f"Nothing was changed. Remove it with `{unlock}` and run again"
        )
    if alive is True:
        return (
            f"{env}: {model} is locked by {info.describe()}; another promotion is in progress. "
            "Nothing was changed; wait for it to finish"
        )
    return (
        f"{env}: {model} is locked by {info.describe()}; another promotion may be in progress. "
        f"Nothing was changed. If that process is gone, the lock is stale: remove it with `{unlock}`"
    )


@contextmanager
def hold(aws: Aws, model: str, operation: str) -> Iterator[LockInfo]:
    info = LockInfo(operation, getpass.getuser(), socket.gethostname(), os.getpid(), now(), naming.lock_key(model))
    body = json.dumps({k: v for k, v in asdict(info).items() if k != "key"}).encode()
    bucket = aws.registry_bucket
    with aws_errors(f"{aws.env.name}: taking lock s3://{bucket}/{info.key}"):
        try:
            aws.s3.put_object(Bucket=bucket, Key=info.key, Body=body, IfNoneMatch="*", **aws.encryption_args())
        except aws.s3.exceptions.ClientError as exc:
            if error_code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            holder = read(aws, model)
            if holder is None:  # released in between
                raise LockHeld(
                    f"{aws.env.name}: {model} was locked by another promotion a moment ago; "
                    "nothing was changed, run again"
                ) from None
            raise LockHeld(held_message(aws, model, holder)) from None
    try:
        yield info
    finally:
        release(aws, info)


def release(aws: Aws, info: LockInfo) -> None:
    try:
        with aws_errors(f"{aws.env.name}: releasing lock s3://{aws.registry_bucket}/{info.key}"):
            aws.s3.delete_object(Bucket=aws.registry_bucket, Key=info.key)
    except PromotionError as exc:
        sys.stderr.write(f"warning: {exc}; the lock stays until `mlplatform unlock --env {aws.env.name} --force`\n")


def remove(aws: Aws, model: str, force: bool) -> LockInfo | None:
    """Remove a stale lock. A lock whose holder is alive on this host is never removed."""
    info = read(aws, model)
    if info is None:
        return None
    if info.alive() is True:
        raise PromotionError(
            f"{aws.env.name}: {model} is locked by {info.describe()}, which is still running; "
            "a live lock is never removed"
        )
    if not force:
        raise PromotionError(f"{aws.env.name}: {model} is locked by {info.describe()}; pass --force to remove it")
    with aws_errors(f"{aws.env.name}: removing lock s3://{aws.registry_bucket}/{info.key}"):
        aws.s3.delete_object(Bucket=aws.registry_bucket, Key=info.key)
    return info
