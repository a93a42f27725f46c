"""Consoles and JSON output shared by the commands."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

# soft_wrap: messages are single lines users grep and tests compare exactly.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> None:
    """Print `message` on stderr, markup off, and leave with `code`."""
    import typer

    err.print(message, markup=False)
    raise typer.Exit(code)
