"""A lock per model and target environment: an S3 object created with If-None-Match.

Created before anything changes, deleted on every exit path (context manager). While held, a
heartbeat rewrites it every HEARTBEAT_SECONDS (If-Match on its ETag, so a holder whose lock was
taken away notices and stops before changing anything). A process killed with SIGKILL cannot
delete it: the next run reports it as stale, naming the holder.

`mlplatform unlock --force` never removes a lock whose holder is alive: on this host that is
checked with the process id; on another host, a heartbeat younger than LEASE_SECONDS means the
holder is alive (a promotion in progress keeps it fresh), and the lock stays.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mlplatform import naming
from mlplatform.promotion.aws import Aws, aws_errors, error_code
from mlplatform.promotion.errors import LockHeld, PromotionError
from mlplatform.promotion.ledger import now

HEARTBEAT_SECONDS = 20.0
LEASE_SECONDS = 90.0


@dataclass
class LockInfo:
    operation: str
    user: str
    host: str
    pid: int
    at: str
    heartbeat: str = ""  # last renewal; empty for locks written before heartbeats
    key: str = ""

    def alive(self) -> bool | None:
        """True/False when the holder runs on this host; None when that cannot be told here."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def heartbeat_age(self) -> float:
        return _age(self.heartbeat or self.at)

    def age_seconds(self) -> float:
        return _age(self.at)

    def live(self) -> bool:
        """Whether the holder must be presumed alive: running here, or elsewhere with a fresh heartbeat."""
        alive = self.alive()
        if alive is not None:
            return alive
        return self.heartbeat_age() < LEASE_SECONDS

    def describe(self) -> str:
        return (
            f"'{self.operation}' by {self.user} on {self.host} (pid {self.pid}) since {self.at} "
            f"({int(self.age_seconds())} s ago)"
        )


def _age(stamp: str) -> float:
    try:
        started = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return float("inf")
    return (datetime.now(UTC) - started).total_seconds()


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
        info = LockInfo(**{k: data[k] for k in ("operation", "user", "host", "pid", "at")}, key=key)
        info.heartbeat = str(data.get("heartbeat") or "")
        return info
    except (ValueError, KeyError, TypeError):
        return LockInfo("unknown", "unknown", "unknown", 0, "", key=key)


def held_message(aws: Aws, model: str, info: LockInfo) -> str:
    env = aws.env.name
    unlock = f"mlplatform unlock {model} --env {env} --force"
    alive = info.alive()
    if alive is False or (alive is None and not info.live()):
        why = (
            "that process is no longer running"
            if alive is False
            else f"its heartbeat stopped {int(info.heartbeat_age())} s ago"
        )
        return (
            f"{env}: {model} is locked by {info.describe()}; {why}: the lock is stale. "
            f"Nothing was changed. Remove it with `{unlock}` and run again"
        )
    return (
        f"{env}: {model} is locked by {info.describe()}; another promotion is in progress. "
        "Nothing was changed; wait for it to finish"
    )


class Held:
    """A lock this process holds; `lost` is set if the heartbeat finds it taken away."""

    def __init__(self, aws: Aws, info: LockInfo, etag: str) -> None:
        self.aws, self.info, self.etag = aws, info, etag
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="mlplatform-lock-heartbeat", daemon=True)

    def _body(self) -> bytes:
        return json.dumps({k: v for k, v in asdict(self.info).items() if k != "key"}).encode()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self.info.heartbeat = now()
            try:
                done = self.aws.s3.put_object(
                    Bucket=self.aws.registry_bucket,
                    Key=self.info.key,
                    Body=self._body(),
                    IfMatch=self.etag,
                    **self.aws.encryption_args(),
                )
                self.etag = done["ETag"]
            except Exception as exc:
                if error_code(exc) in ("PreconditionFailed", "NoSuchKey", "ConditionalRequestConflict"):
                    self.lost = "the promotion lock was removed or replaced by another process"
                    return

    def check(self) -> None:
        """Raise before a change if the lock is no longer ours."""
        if self.lost:
            raise PromotionError(f"{self.aws.env.name}: {self.lost}; stopped before changing anything more")


@contextmanager
def hold(aws: Aws, model: str, operation: str) -> Iterator[Held]:
    stamp = now()
    info = LockInfo(
        operation, getpass.getuser(), socket.gethostname(), os.getpid(), stamp, stamp, naming.lock_key(model)
    )
    bucket = aws.registry_bucket
    holder = Held(aws, info, "")
    with aws_errors(f"{aws.env.name}: taking lock s3://{bucket}/{info.key}"):
        try:
            done = aws.s3.put_object(
                Bucket=bucket, Key=info.key, Body=holder._body(), IfNoneMatch="*", **aws.encryption_args()
            )
        except aws.s3.exceptions.ClientError as exc:
            if error_code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            current = read(aws, model)
            if current is None:  # released in between
                raise LockHeld(
                    f"{aws.env.name}: {model} was locked by another promotion a moment ago; "
                    "nothing was changed, run again"
                ) from None
            raise LockHeld(held_message(aws, model, current)) from None
    holder.etag = done["ETag"]
    holder._thread.start()
    try:
        yield holder
    finally:
        holder._stop.set()
        holder._thread.join(timeout=5)
        release(aws, info)


def release(aws: Aws, info: LockInfo) -> None:
    try:
        with aws_errors(f"{aws.env.name}: releasing lock s3://{aws.registry_bucket}/{info.key}"):
            aws.s3.delete_object(Bucket=aws.registry_bucket, Key=info.key)
    except PromotionError as exc:
        sys.stderr.write(f"warning: {exc}; the lock stays until `mlplatform unlock --env {aws.env.name} --force`\n")


def remove(aws: Aws, model: str, force: bool) -> LockInfo | None:
    """Remove a stale lock. A lock whose holder is alive, here or elsewhere, is never removed."""
    info = read(aws, model)
    if info is None:
        return None
    if info.alive() is True:
        raise PromotionError(
            f"{aws.env.name}: {model} is locked by {info.describe()}, which is still running; "
            "a live lock is never removed"
        )
    if info.alive() is None and info.live():
        raise PromotionError(
            f"{aws.env.name}: {model} is locked by {info.describe()} on another host, whose heartbeat is "
            f"{int(info.heartbeat_age())} s old: it is alive as far as can be known from here, and a live lock is "
            f"never removed. A lock whose heartbeat is older than {int(LEASE_SECONDS)} s is stale and can be removed"
        )
    if not force:
        raise PromotionError(f"{aws.env.name}: {model} is locked by {info.describe()}; pass --force to remove it")
    with aws_errors(f"{aws.env.name}: removing lock s3://{aws.registry_bucket}/{info.key}"):
        aws.s3.delete_object(Bucket=aws.registry_bucket, Key=info.key)
    return info
