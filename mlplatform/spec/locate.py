"""Turn a path inside the raw blueprint into file, line, component and field for a Problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlplatform.spec.problems import Problem, Severity

Path = tuple[Any, ...]


@dataclass
class Locator:
    file: str
    raw: dict[str, Any]
    lines: dict[Path, int]

    def problem(self, path: Path, message: str, env: str | None = None, severity: Severity = "error") -> Problem:
        path = self.clean(path)
        component, field_path = self._component(path)
        return Problem(
            file=self.file,
            line=self._line(path),
            component=component,
            field=_dotted(field_path),
            message=message,
            env=env,
            severity=severity,
        )

    def clean(self, loc: Path) -> Path:
        """Drop the union tags pydantic inserts into error locations (e.g. 'ModelEndpoint')."""
        node: Any = self.raw
        out: list[Any] = []
        for part in loc:
            if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            ):
                node = node[part]
            elif (isinstance(node, dict) and node.get("kind", node.get("strategy")) == part) or (
                isinstance(node, dict) and part in ("function-after", "function-before")
            ):
                continue
            else:
                node = None
            out.append(part)
        return tuple(out)

    def _line(self, path: Path) -> int:
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line:
                return line
        return 0

    def _component(self, path: Path) -> tuple[str, Path]:
        if len(path) >= 2 and path[0] == "components" and isinstance(path[1], int):
            comps = self.raw.get("components")
            item = comps[path[1]] if isinstance(comps, list) and path[1] < len(comps) else None
            return _label(item, f"component #{path[1] + 1}"), path[2:]
        return _label({**self.raw, "kind": "Platform"}, "Platform"), path


def _label(item: Any, fallback: str) -> str:
    if not isinstance(item, dict):
        return fallback
    kind = item.get("kind") or fallback
    name = item.get("name")
    return f"{kind} '{name}'" if isinstance(name, str) else str(kind)


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
