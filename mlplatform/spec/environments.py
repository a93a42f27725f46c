"""What an environment's name says about it; below every rule module that asks."""

from __future__ import annotations


def is_production(env: str) -> bool:
    return env in ("prod", "production") or env.startswith("prod")
