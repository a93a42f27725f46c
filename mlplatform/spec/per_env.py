"""`per_env(...)`: a value that differs between environments."""

from __future__ import annotations

import sys
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_UNSET: Any = object()


class PerEnv(Generic[T]):
    """Values by environment name, with an optional `default` for the environments not named.

    Resolution happens when a blueprint is loaded for one environment; each resolved value is
    then validated exactly like a plain value of the field it stands for.
    """

    __slots__ = ("default", "line", "values")

    def __init__(self, values: dict[str, T], default: T = _UNSET, line: int = 0) -> None:
        self.values = values
        self.default = default
        self.line = line

    @property
    def has_default(self) -> bool:
        return self.default is not _UNSET

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.values.items()]
        if self.has_default:
            parts.append(f"default={self.default!r}")
        return f"per_env({', '.join(parts)})"


def per_env(default: Any = _UNSET, **values: Any) -> Any:
    """A field value per environment: `per_env(dev=1, prod=4)` or `per_env(dev=1, default=2)`.

    Typed `Any` so a blueprint stays type-checkable where the field expects a plain value.
    """
    frame = sys._getframe(1)
    return PerEnv(values, default, frame.f_lineno)
