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
            help="Blueprint files, or folders of them (their *.py files).", show_default=False, metavar="BLUEPRINT"
        ),
    ],
    env: Annotated[str | None, typer.Option("--env", "-e", help="Validate for this environment only.")] = None,
    all_envs: Annotated[bool, typer.Option("--all-envs", help="Validate for every environment (the default).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    project_dir: Annotated[
        Path | None,
        typer.Option(
            "--project-dir", help="Project folder (holding Pulumi.yaml). Omitted: found from the current folder."
        ),
    ] = None,
) -> None:
    """Check blueprints (fields, types, names, references, per-environment rules) and the
    project's stack files that deploy them (keys, environment, promoted models)."""
    from mlplatform.blueprint import load
    from mlplatform.spec.problems import BlueprintInvalid

    if env and all_envs:
        raise typer.BadParameter("give --env or --all-envs, not both", param_hint="--env")
    reports: list[dict[str, Any]] = []
    files = blueprint_files(blueprints)
    root = _project_root(files, project_dir)
    validated: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for path in files:
        envs = [env] if env else None
        try:
            loaded = load(path)
            result = loaded.validate(envs)
            problems, checked = result.problems, list(result.specs) if result.ok else envs or []
            if root is not None:
                validated[_setting(root, path)] = (loaded.environments, result.specs)
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
    stacks = _stack_reports(root, validated, [env] if env else None)
    if not as_json:
        for report in stacks:
            _print_stack(report)
    valid = all(r["valid"] for r in reports) and not any(s.errors for s in stacks)
    if as_json:
        print_json({"valid": valid, "blueprints": reports, "stack_files": [s.to_json() for s in stacks]})
    raise typer.Exit(0 if valid else 1)


def _project_root(files: list[Path], project_dir: Path | None) -> Path | None:
    """The project (folder of Pulumi.yaml) the blueprints belong to, if any."""
    from mlplatform.errors import MlplatformError
    from mlplatform.stack_config import find_project_root

    if project_dir is not None:
        return find_project_root(project_dir)
    for start in (None, *(f.resolve().parent for f in files)):
        try:
            return find_project_root(start)
        except MlplatformError:
            continue
    return None


def _setting(root: Path, path: Path) -> str:
    from mlplatform.plan.stacks import blueprint_setting

    return blueprint_setting(root, path)


def _stack_reports(root: Path | None, validated: dict[str, Any], envs: list[str] | None) -> list[Any]:
    if root is None:
        return []
    from mlplatform.plan.stacks import check_stack_files

    return check_stack_files(root, validated, envs)


def _print_stack(report: Any) -> None:
    for warning in report.warnings:
        out.print(f"{report.file}: warning: {warning}", markup=False)
    for error in report.errors:
        err.print(f"{report.file}: {error}", markup=False)
    if report.errors:
        noun = "error" if len(report.errors) == 1 else "errors"
        err.print(f"{report.file}: invalid, {len(report.errors)} {noun}", markup=False)
    else:
        out.print(f"{report.file}: valid, stack '{report.stack}' deploys {report.blueprint} as '{report.environment}'",
                  markup=False)


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
