"""Small helpers shared by the promotion operations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class ProgressFactory(Protocol):
    """Opens a progress display for `total` bytes; yields a callback taking bytes done since last call."""

    def __call__(self, description: str, total: int) -> AbstractContextManager[Callable[[int], None]]: ...


@contextmanager
def no_progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _done: None
