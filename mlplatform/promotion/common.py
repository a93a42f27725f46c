"""Small helpers shared by the promotion operations."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

USER_ENV = "MLPLATFORM_USER"


class ProgressFactory(Protocol):
    """Opens a progress display for `total` bytes; yields a callback taking bytes done since last call."""

    def __call__(self, description: str, total: int) -> AbstractContextManager[Callable[[int], None]]: ...


@contextmanager
def no_progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _done: None


def current_user() -> str:
    """Who is acting: MLPLATFORM_USER, else the login name."""
    found = os.environ.get(USER_ENV)
    if found:
        return found
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def caller_identity(aws: object) -> str | None:
    """The AWS principal ARN of a session, recorded in the ledger; None if it cannot be read."""
    try:
        client = aws.client("sts")  # type: ignore[attr-defined]
        return str(client.get_caller_identity()["Arn"])
    except Exception:
        return None
