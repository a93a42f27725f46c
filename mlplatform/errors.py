"""Errors a user can act on. The CLI prints their message and exits 1, without a traceback."""

from __future__ import annotations


class MlplatformError(Exception):
    """An input or a check failed; the message says what and where, and what would fix it."""
