"""Validation problems: one per thing wrong, each naming where and what would be right."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from mlplatform.errors import MlplatformError

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a blueprint, located as precisely as the source allows."""

    file: str
    line: int
    component: str  # "Kind 'name'", or "Platform 'name'" for platform-level fields
    field: str  # dotted path inside the component, "" when the whole component is meant
    message: str
    env: str | None = None  # set when the problem exists only in some environments
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        env = f"[{self.env}] " if self.env else ""
        field = f", field '{self.field}'" if self.field else ""
        level = "" if self.severity == "error" else "warning: "
        return f"{where}: {level}{env}{self.component}{field}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class BlueprintInvalid(MlplatformError):
    """Raised with every problem found; callers print each and exit 1."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _order(p: Problem) -> tuple[str, int, str, str, str]:
    return (p.file, p.line, p.component, p.field, p.message)
