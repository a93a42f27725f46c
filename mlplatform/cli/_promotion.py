"""What the promotion commands share: options, the project, progress, confirmation, and the
error contract (a failure under --json is a JSON document on stdout; Ctrl-C says what state
was left and exits 130)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from mlplatform.cli import output
from mlplatform.cli.output import INTERRUPTED, err, print_json
from mlplatform.errors import MlplatformError

if TYPE_CHECKING:
    from mlplatform.promotion.operations import Journal
    from mlplatform.promotion.project import Project

ProjectDir = Annotated[
    Path | None,
    typer.Option("--project-dir", help="Project folder (holding Pulumi.yaml). Omitted: found from the current folder."),
]
AwsProfiles = Annotated[
    list[str] | None,
    typer.Option(
        "--aws-profile",
        help="ENV=PROFILE: AWS profile for an environment (repeatable). "
        "Omitted: mlplatform:awsProfile of its stack file, else boto3's default chain.",
    ),
]
AwsRoles = Annotated[
    list[str] | None,
    typer.Option(
        "--aws-role",
        help="ENV=ROLE_ARN: role to assume for an environment (repeatable). "
        "Omitted: mlplatform:awsRoleArn of its stack file, or the duty's platform role with MLPLATFORM_DUTY_ROLES=1.",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout (messages go to stderr).")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation in production.")]
By = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Who acts. Omitted: who AWS says you are; given, it must be that (the ledger records your AWS identity).",
    ),
]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (recorded).")]

F = TypeVar("F", bound=Callable[..., Any])


def pairs(values: list[str] | None, option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values or []:
        env, sep, name = value.partition("=")
        if not sep or not env or not name:
            raise typer.BadParameter(f"expected ENV=VALUE, got {value!r}", param_hint=option)
        found[env] = name
    return found


def project(project_dir: Path | None, profiles: list[str] | None, roles: list[str] | None, duty: str) -> Project:
    from mlplatform.promotion.project import Project

    return Project.find(project_dir, pairs(profiles, "--aws-profile"), pairs(roles, "--aws-role"), duty)


def failure(message: str, exit_code: int = 1, **extra: Any) -> dict[str, Any]:
    """The CLI's failure document (cli/output.py), with what a promotion adds (failed gates)."""
    document = output.failure(message, exit_code, extra.pop("problems", None))
    document["error"].update(extra)
    return document


_JOURNAL: ContextVar[Journal | None] = ContextVar("journal", default=None)


def track(journal: Journal) -> Journal:
    """Make `journal` (what the running command has changed) the one Ctrl-C reports."""
    _JOURNAL.set(journal)
    return journal


def command(fn: F) -> F:
    """The error contract of a promotion command: no traceback; under --json the failure is a
    JSON document on stdout (gate failures listed); Ctrl-C reports what was changed and exits 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from mlplatform.promotion.errors import GateFailed
        from mlplatform.spec.problems import BlueprintInvalid

        as_json = bool(kwargs.get("as_json"))
        _JOURNAL.set(None)
        try:
            return fn(*args, **kwargs)
        except BlueprintInvalid as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            if as_json:
                print_json(failure(str(exc), 1, problems=[p.to_json() for p in exc.problems]))
            raise typer.Exit(1) from None
        except MlplatformError as exc:
            err.print(f"error: {exc}", markup=False)
            if as_json:
                extra = {"failures": exc.failures} if isinstance(exc, GateFailed) else {}
                print_json(failure(str(exc), 1, **extra))
            raise typer.Exit(1) from None
        except (KeyboardInterrupt, typer.Abort):
            done = _JOURNAL.get()
            said = done.describe() if done is not None else "nothing was changed"
            err.print(f"\ninterrupted: {said}", markup=False)
            if as_json:
                print_json(failure(f"interrupted: {said}", INTERRUPTED))
            raise typer.Exit(INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr when it is a terminal; silent otherwise (pipes, --json, CI)."""
    if not err.is_terminal:
        yield lambda _done: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.advance(task, done)


def confirm(question: str, yes: bool, what: str) -> None:
    """Ask on stderr before a change in production; without a terminal, --yes is required."""
    if yes:
        return
    if not output.interactive():
        raise NoTerminal(
            f"{what} changes production and needs confirmation, but there is no terminal to ask: "
            "pass --yes to proceed. Nothing was changed"
        )
    if not typer.confirm(question, default=False, err=True):
        err.print("nothing was changed", markup=False)
        raise typer.Exit(1)


class NoTerminal(MlplatformError):
    """Production needs a yes, and there is nobody to ask."""
