"""What "production" means, in one place: validation, guardrails, protection of resources,
prompts and the approval gate all ask `is_production`.

Imports nothing but the standard library, so the promotion commands use it without loading
the blueprint language.
"""

from __future__ import annotations

from collections.abc import Sequence


def is_production(env: str) -> bool:
    """`prod`, `production`, or any environment whose name starts with `prod` (`prodeu`)."""
    return env.lower().startswith("prod")


def approval_environment(order: Sequence[str], env: str) -> str | None:
    """Where a version must be approved before it enters `env`: for a production environment,
    the last environment before the first production one in promotion order (staging for
    dev -> staging -> prod); None for environments that are not production."""
    if not is_production(env):
        return None
    before = [e for e in order[: _first_production(order)] if not is_production(e)]
    return before[-1] if before else None


def _first_production(order: Sequence[str]) -> int:
    return next((i for i, e in enumerate(order) if is_production(e)), len(order))
