"""Consoles, JSON output and the contract every command keeps.

- Data goes to stdout: text, or with `--json` exactly one JSON document. Messages, progress and
  prompts go to stderr, so `mlplatform X --json | jq` always parses.
- Exit codes: 0 success; 1 invalid input or a failed check; 2 usage error; 130 interrupted.
- With `--json`, a failure is a JSON document on stdout too (FAILURE_SHAPE), and its message is
  also printed on stderr for whoever watches the terminal:
  {"error": {"kind": "invalid" | "usage" | "interrupted", "exit_code": 1, "message": "...",
             "problems": [...]}}   # problems: only for blueprint problems, as validate prints them
- Ctrl-C says what state was left, never exits silently.

Commands get all of this from `@user_errors` (failures and interrupts inside the command) and
the app's group class (usage errors found while parsing, before the command runs).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, overload

from rich.console import Console

# soft_wrap: messages are single lines users grep and tests compare exactly. Piped output
# (CI logs, files) is not cut at rich's default 80 columns: trees and tables keep whole names.
_PIPED_WIDTH = 160
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else _PIPED_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else _PIPED_WIDTH)

INVALID, USAGE, INTERRUPTED = 1, 2, 130
_KINDS = {INVALID: "invalid", USAGE: "usage", INTERRUPTED: "interrupted"}
# What Ctrl-C leaves: by default (validate, schema) nothing; the offline plan and what is built
# on it (diff, graph, cost) runs under mocks and writes files only once complete.
NOTHING_CHANGED = "nothing was created or changed"
PLAN_INTERRUPTED = "the plan was not finished; it runs offline under mocks, so nothing was created or changed"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def failure(message: str, exit_code: int = INVALID, problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON document a failed command prints on stdout under --json."""
    error: dict[str, Any] = {"kind": _KINDS.get(exit_code, "invalid"), "exit_code": exit_code, "message": message}
    if problems is not None:
        error["problems"] = problems
    return {"error": error}


def fail(message: str, code: int = INVALID, *, as_json: bool = False) -> None:
    """Print `message` on stderr (markup off), and under --json the failure document on stdout;
    leave with `code`."""
    import typer

    err.print(message, markup=False)
    if as_json:
        print_json(failure(message.removeprefix("error: "), code))
    raise typer.Exit(code)


def interactive() -> bool:
    """Whether a person can answer a prompt: stdin is a terminal."""
    return sys.stdin.isatty()


def confirm(question: str, *, yes: bool, as_json: bool = False) -> None:
    """Ask on stderr (stdout stays data), unless `yes`. Without a terminal to ask on, stop with a
    message that names --yes instead of waiting or assuming an answer. A "no" exits 1."""
    import typer

    if yes:
        return
    if not interactive():
        fail(f"error: {question} needs confirmation, and there is no terminal to ask on; pass --yes", as_json=as_json)
    if not typer.confirm(f"{question} Continue?", default=False, err=True):
        fail("aborted: nothing was changed", as_json=as_json)


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: an interrupted write leaves the old file (or none)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


F = TypeVar("F", bound=Callable[..., Any])


@overload
def user_errors(command: F) -> F: ...
@overload
def user_errors(*, interrupted: str = NOTHING_CHANGED) -> Callable[[F], F]: ...


def user_errors(command: F | None = None, *, interrupted: str = NOTHING_CHANGED) -> F | Callable[[F], F]:
    """Decorate a command with the contract above. An MlplatformError (bad input, failed check)
    prints its message and exits 1, never a traceback; a usage error raised by the command exits
    2; Ctrl-C prints `interrupted: <what state was left>` and exits 130. With `as_json=True`
    among the command's arguments, each also prints the failure document on stdout.

    `@user_errors` or `@user_errors(interrupted="nothing changed; re-run to finish")`. Also holds
    under typer's CliRunner, which calls the app without going through `main()`."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            import typer

            from mlplatform.errors import MlplatformError
            from mlplatform.spec.problems import BlueprintInvalid

            as_json = bool(kwargs.get("as_json"))
            _, usage_error = click_errors()
            try:
                return fn(*args, **kwargs)
            except BlueprintInvalid as exc:
                for problem in exc.problems:
                    err.print(str(problem), markup=False)
                if as_json:
                    print_json(failure(str(exc), INVALID, [p.to_json() for p in exc.problems]))
                raise typer.Exit(INVALID) from None
            except MlplatformError as exc:
                err.print(f"error: {exc}", markup=False)
                if as_json:
                    print_json(failure(str(exc), INVALID))
                raise typer.Exit(INVALID) from None
            except usage_error as exc:
                if not as_json:
                    raise  # click prints it with the usage line
                text = exc.format_message()  # type: ignore[attr-defined]
                err.print(f"error: {text}", markup=False)
                print_json(failure(text, USAGE))
                raise typer.Exit(USAGE) from None
            except KeyboardInterrupt:
                err.print(f"\ninterrupted: {interrupted}", markup=False)
                if as_json:
                    print_json(failure(f"interrupted: {interrupted}", INTERRUPTED))
                raise typer.Exit(INTERRUPTED) from None

        return wrapper  # type: ignore[return-value]

    return decorate(command) if command is not None else decorate


def click_errors() -> tuple[type[Exception], type[Exception]]:
    """(ClickException, UsageError) of the click typer runs on: recent typer releases carry their
    own copy of click, older ones use click itself; typer.BadParameter derives from both."""
    import typer

    mro = typer.BadParameter.__mro__
    usage = next(c for c in mro if c.__name__ == "UsageError")
    base = next(c for c in mro if c.__name__ == "ClickException")
    return base, usage


def json_requested(args: list[str]) -> bool:
    """Whether the command line asks for JSON (`--json`, or `--format json` for graph)."""
    if "--json" in args:
        return True
    return any(a in ("--format", "-f") and args[i + 1 : i + 2] == ["json"] for i, a in enumerate(args)) or (
        "--format=json" in args
    )
