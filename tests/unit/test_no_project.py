"""Run outside the project (a blueprint copied elsewhere, a shell in another folder): every command
that needs the project says none was found, where it looked, and how to name it (--project-dir),
exit 1, the same words for the plan commands and the promotion commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app
from tests.conftest import ROOT

FRAUD = "blueprints/fraud_detection.py"


def _no_project(searched: str) -> str:
    return (
        f"error: no mlplatform project found: no Pulumi.yaml in {searched} or any folder above; run the command "
        "inside the project (the folder holding Pulumi.yaml and stacks/), or pass --project-dir DIR\n"
    )


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with no Pulumi.yaml above it, holding a copy of the example blueprint."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    shutil.copy(ROOT / FRAUD, folder / "fraud.py")
    monkeypatch.chdir(folder)
    return folder.resolve()


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["history", "fraud-xgb"],
        ["promote", "fraud-xgb", "--from", "dev", "--to", "staging"],
        ["rollback", "fraud-xgb", "--env", "staging"],
        ["approve", "fraud-xgb", "--env", "staging", "--version", "1", "--reason", "ok"],
        ["register", "fraud-xgb", "--env", "dev", "--artifact", "model.tar.gz"],
        ["unlock", "fraud-xgb", "--env", "dev"],
    ],
)
def test_promotion_commands_say_no_project_was_found(elsewhere: Path, args: list[str]) -> None:
    assert _run(*args) == (1, "", _no_project(str(elsewhere)))


@pytest.mark.parametrize("command", ["plan", "cost", "graph", "feast-config"])
def test_plan_commands_name_both_folders_they_searched(elsewhere: Path, tmp_path: Path, command: str) -> None:
    # The current folder, then the blueprint's: a blueprint inside a project plans from anywhere.
    here = tmp_path / "shell"
    here.mkdir()
    blueprint = elsewhere / "fraud.py"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(here)
        searched = f"{here.resolve()} (the current folder) or {elsewhere} (the blueprint's)"
        assert _run(command, str(blueprint), "--env", "dev") == (1, "", _no_project(searched))


def test_json_gets_the_failure_document(elsewhere: Path) -> None:
    code, out, err = _run("status", "--json")
    assert (code, err) == (1, _no_project(str(elsewhere)))
    assert json.loads(out) == {
        "error": {"kind": "invalid", "exit_code": 1, "message": _no_project(str(elsewhere))[len("error: ") : -1]}
    }


def test_project_dir_names_the_project(elsewhere: Path) -> None:
    # The hint works: the project's blueprint, run from elsewhere with the project named.
    code, out, err = _run(
        "feast-config",
        str(ROOT / FRAUD),
        "--env",
        "dev",
        "--project-dir",
        str(ROOT),
        "--account-id",
        "123456789012",
        "--json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["store"] == "features"
