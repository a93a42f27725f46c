"""Load a blueprint file and resolve it for one environment.

A blueprint is a Python file defining exactly one module-level `Platform`. Anything that goes
wrong while running it (syntax, imports, exceptions) becomes a Problem with file and line,
never a traceback.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplatform.spec.declarations import Declaration
from mlplatform.spec.declarations import Platform as PlatformDeclaration
from mlplatform.spec.platform import Platform
from mlplatform.spec.problems import BlueprintInvalid, Problem
from mlplatform.spec.validate import Validated, declared_environments, validate_raw


@dataclass
class Blueprint:
    """A loaded, not yet validated blueprint."""

    file: str  # as given by the user, used in messages
    raw: dict[str, Any]
    lines: dict[tuple[Any, ...], int]

    @property
    def environments(self) -> list[str]:
        return declared_environments(self.raw)

    @property
    def name(self) -> str:
        name = self.raw.get("name")
        return name if isinstance(name, str) else "?"

    def validate(self, envs: list[str] | None = None) -> Validated:
        return validate_raw(self.raw, self.file, self.lines, envs)

    def resolve(self, env: str) -> Platform:
        """The platform for `env`; raises BlueprintInvalid listing every error."""
        result = self.validate([env])
        if env not in result.specs:
            raise BlueprintInvalid(result.errors)
        return result.specs[env]


def load(path: str | Path) -> Blueprint:
    """Run the blueprint file and return its one Platform; raises BlueprintInvalid."""
    shown = str(path)
    file = Path(path)
    if file.is_dir():
        raise BlueprintInvalid(
            [Problem(shown, 0, "Platform", "", "is a folder; give a blueprint file (`validate` also takes folders)")]
        )
    if not file.is_file():
        raise BlueprintInvalid([Problem(shown, 0, "Platform", "", "blueprint file not found")])
    module = _run(file, shown)
    found = [(name, value) for name, value in vars(module).items() if isinstance(value, PlatformDeclaration)]
    if not found:
        raise BlueprintInvalid(
            [
                Problem(
                    shown, 0, "Platform", "", "defines no module-level Platform(...); a blueprint defines exactly one"
                )
            ]
        )
    if len(found) > 1:
        where = ", ".join(f"'{name}' (line {value.line})" for name, value in found)
        raise BlueprintInvalid(
            [
                Problem(
                    shown,
                    found[1][1].line,
                    "Platform",
                    "",
                    f"defines {len(found)} Platforms: {where}; a blueprint defines exactly one",
                )
            ]
        )
    declaration: Declaration = found[0][1]
    lines: dict[tuple[Any, ...], int] = {}
    try:
        raw = declaration.to_raw((), lines)
    except RecursionError:
        problem = "the Platform contains itself (a list or dict that refers to itself, or nesting too deep)"
        raise BlueprintInvalid([Problem(shown, declaration.line, "Platform", "", problem)]) from None
    return Blueprint(shown, raw, lines)


def _run(file: Path, shown: str) -> Any:
    name = f"mlplatform_blueprint_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise BlueprintInvalid([Problem(shown, 0, "Platform", "", "not a Python file")])
    module = importlib.util.module_from_spec(spec)
    try:
        source = file.read_text(encoding="utf-8")
        code = compile(source, str(file), "exec")
    except SyntaxError as exc:
        raise BlueprintInvalid(
            [Problem(shown, exc.lineno or 0, "Platform", "", f"Python syntax error: {exc.msg}")]
        ) from None
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, or null bytes
        raise BlueprintInvalid([Problem(shown, 0, "Platform", "", f"cannot read the file: {exc}")]) from None
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:  # SystemExit: a blueprint calling exit() is still bad input
        line = _blueprint_line(exc, str(file))
        raise BlueprintInvalid([Problem(shown, line, "Platform", "", _failure(exc))]) from None
    finally:
        sys.modules.pop(name, None)
    return module


def _failure(exc: BaseException) -> str:
    """What went wrong running the blueprint, without paths of this machine."""
    if isinstance(exc, SystemExit):
        return f"the blueprint called exit({exc.code!r}); a blueprint only declares its Platform"
    if not isinstance(exc, ImportError):
        try:
            text = str(exc)
        except Exception:
            text = "(no message)"
        return f"the blueprint raised {type(exc).__name__}: {text}"
    text = exc.msg if isinstance(exc.msg, str) else str(exc)
    text = re.sub(r" \((/|[A-Za-z]:\\)[^)]*\)$", "", text)  # "... from 'x' (/path/x/__init__.py)"
    missing = re.match(r"cannot import name '(\w+)' from 'mlplatform'", text)
    if missing:
        import mlplatform

        close = difflib.get_close_matches(missing.group(1), mlplatform.__all__, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        text += f"; {hint}mlplatform provides {', '.join(mlplatform.__all__)}"
    return f"import failed: {type(exc).__name__}: {text}"


def _blueprint_line(exc: BaseException, filename: str) -> int:
    """The innermost line of the blueprint file in the exception's traceback."""
    line = 0
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno or 0
    return line
