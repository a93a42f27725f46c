"""`mlplatform validate` and `mlplatform schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from mlplatform.cli.output import err, out, print_json, user_errors, write_atomically


def blueprint_files(paths: list[Path]) -> list[Path]:
    """The blueprints named: files as given, and for a folder its `*.py` files (not those starting
    with '_', which hold shared helpers), in name order."""
    from mlplatform.errors import MlplatformError

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
            if not inside:
                raise MlplatformError(f"{path}: no blueprints (*.py files) in this folder")
            found.extend(inside)
        else:
            found.append(path)
    return found


@user_errors
def validate(
    blueprints: Annotated[
        list[Path],
        typer.Argument(
            help="Blueprint files, or folders of them (their *.py files).", show_default=False, metavar="BLUEPRINT..."
        ),
    ],
    env: Annotated[str | None, typer.Option("--env", "-e", help="Validate for this environment only.")] = None,
    all_envs: Annotated[bool, typer.Option("--all-envs", help="Validate for every environment (the default).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check blueprints: fields, types, names, references and per-environment rules."""
    from mlplatform.blueprint import load
    from mlplatform.spec.problems import BlueprintInvalid

    if env and all_envs:
        raise typer.BadParameter("give --env or --all-envs, not both", param_hint="--env")
    reports: list[dict[str, Any]] = []
    for path in blueprint_files(blueprints):
        envs = [env] if env else None
        try:
            result = load(path).validate(envs)
            problems, checked = result.problems, list(result.specs) if result.ok else envs or []
        except BlueprintInvalid as exc:
            problems, checked = exc.problems, []
        errors = [p for p in problems if p.severity == "error"]
        reports.append(
            {
                "file": str(path),
                "valid": not errors,
                "environments": checked if not errors else [],
                "errors": [p.to_json() for p in errors],
                "warnings": [p.to_json() for p in problems if p.severity == "warning"],
            }
        )
        if not as_json:
            _print_report(str(path), problems, checked if not errors else [])
    valid = all(r["valid"] for r in reports)
    if as_json:
        print_json({"valid": valid, "blueprints": reports})
    raise typer.Exit(0 if valid else 1)


def _print_report(file: str, problems: list[Any], envs: list[str]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        (err if problem.severity == "error" else out).print(str(problem), markup=False)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        err.print(f"{file}: invalid, {len(errors)} {noun}", markup=False)
    else:
        out.print(f"{file}: valid for {', '.join(envs)}", markup=False)


@user_errors
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Accepted for symmetry: the schema is JSON; with --output, say so in JSON.")
    ] = False,
) -> None:
    """Print the JSON Schema of the blueprint language."""
    from mlplatform.errors import MlplatformError
    from mlplatform.spec.schema import blueprint_schema

    text = json.dumps(blueprint_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        write_atomically(output, text)
    except OSError as exc:
        raise MlplatformError(f"{output}: cannot write: {exc.strerror or exc}") from None
    if as_json:
        print_json({"wrote": str(output)})
    else:
        err.print(f"wrote {output}", markup=False)
