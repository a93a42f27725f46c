"""Source lines of blueprint calls, found cheaply.

`frame.f_lineno` decodes the code object's line table from its start on every access, so a
blueprint of a thousand declarations in one module-level expression paid O(n^2) for its own
line numbers (seconds at 1,000 components). Recording the frame's code and instruction offset
is O(1); the line is looked up later in a table built once per code object.
"""

from __future__ import annotations

import bisect
import sys
from types import CodeType

Where = tuple[CodeType, int]

# A few code objects at a time: the blueprints being loaded. Keyed by id; the entry keeps the
# code object alive, so the id is not reused while cached.
_TABLES: dict[int, tuple[CodeType, list[int], list[int]]] = {}
_MAX_TABLES = 16


def caller(depth: int = 2) -> Where:
    """Where the caller of the function calling this was (depth 2: one frame above that)."""
    frame = sys._getframe(depth)
    return frame.f_code, frame.f_lasti


def line_of(where: Where) -> int:
    code, offset = where
    entry = _TABLES.get(id(code))
    if entry is None or entry[0] is not code:
        starts: list[int] = []
        lines: list[int] = []
        for start, _end, line in code.co_lines():
            starts.append(start)
            lines.append(line or 0)
        if len(_TABLES) >= _MAX_TABLES:
            _TABLES.clear()
        entry = _TABLES[id(code)] = (code, starts, lines)
    _, starts, lines = entry
    i = bisect.bisect_right(starts, offset) - 1
    return lines[i] if i >= 0 else 0
