"""`per_env(...)`: a value that differs between environments."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from mlplatform.spec.source import Where, caller, line_of

T = TypeVar("T")

_UNSET: Any = object()


class PerEnv(Generic[T]):
    """Values by environment name, with an optional `default` for the environments not named.

    Resolution happens when a blueprint is loaded for one environment; each resolved value is
    then validated exactly like a plain value of the field it stands for.
    """

    __slots__ = ("_line", "_where", "default", "values")

    def __init__(self, values: dict[str, T], default: T = _UNSET, line: int = 0, *, where: Where | None = None) -> None:
        self.values = values
        self.default = default
        self._line = line
        self._where = where

    @property
    def line(self) -> int:
        """Source line of the per_env(...) call (0 when unknown)."""
        if self._where is not None:
            self._line, self._where = line_of(self._where), None
        return self._line

    @line.setter
    def line(self, value: int) -> None:
        self._line, self._where = value, None

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
    return PerEnv(values, default, where=caller())
