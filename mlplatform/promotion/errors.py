"""Errors of the promotion commands; each message says what failed and what to do."""

from __future__ import annotations

from mlplatform.errors import MlplatformError


class PromotionError(MlplatformError):
    """A promotion step failed; nothing was changed unless the message says otherwise."""


class GateFailed(PromotionError):
    """One or more gates failed. All gates are checked, and all failures are listed."""

    def __init__(self, action: str, failures: list[str]) -> None:
        self.failures = failures
        lines = "\n".join(f"  - {f}" for f in failures)
        noun = "gate" if len(failures) == 1 else "gates"
        super().__init__(f"{action}: {len(failures)} {noun} failed, nothing was changed:\n{lines}")


class LockHeld(PromotionError):
    """Another promotion holds the lock of this model in this environment."""
