"""Consoles and JSON output shared by the commands."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console

# soft_wrap: messages are single lines users grep and tests compare exactly. Piped output
# (CI logs, files) is not cut at rich's default 80 columns: trees and tables keep whole names.
_PIPED_WIDTH = 160
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else _PIPED_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else _PIPED_WIDTH)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> None:
    """Print `message` on stderr, markup off, and leave with `code`."""
    import typer

    err.print(message, markup=False)
    raise typer.Exit(code)


F = TypeVar("F", bound=Callable[..., Any])


def user_errors(command: F) -> F:
    """Decorate a command: an MlplatformError (bad input, failed check) prints its message on
    stderr and exits 1, never a traceback. Also holds under typer's CliRunner, which calls the
    app without going through `main()`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import typer

        from mlplatform.errors import MlplatformError
        from mlplatform.spec.problems import BlueprintInvalid

        try:
            return command(*args, **kwargs)
        except BlueprintInvalid as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            raise typer.Exit(1) from None
        except MlplatformError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
