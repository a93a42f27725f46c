"""The contract every command keeps (mlplatform/cli/output.py): data on stdout, messages and
prompts on stderr, exit codes 0/1/2/130, and under --json a failure is a JSON document on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mlplatform.cli import output
from mlplatform.cli.app import app
from tests.conftest import ROOT

MLPLATFORM = Path(sys.executable).parent / "mlplatform"
FRAUD = "blueprints/fraud_detection.py"
PLAN_INTERRUPTED = (
    "interrupted: the plan was not finished; it runs offline under mocks, so nothing was created or changed"
)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    expected = f"mlplatform {version('mlplatform')}\n"
    assert _run("--version") == (0, expected, "")
    assert _run("-V") == (0, expected, "")


@pytest.mark.parametrize("command", ["validate", "plan", "diff", "graph", "cost", "schema", "promote", "status"])
def test_dash_h_is_help(command: str) -> None:
    code, out, err = _run(command, "-h")
    assert (code, err) == (0, "")
    assert f"Usage: mlplatform {command} [OPTIONS]" in out
    assert _run(command, "--help")[1] == out


def test_app_help_lists_version() -> None:
    code, out, _ = _run("-h")
    assert code == 0
    assert "--version" in out and "-V" in out


def _usage_failure(message: str) -> dict[str, object]:
    return {"error": {"kind": "usage", "exit_code": 2, "message": message}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--json"], "Missing argument 'BLUEPRINT'."),
        (["cost", FRAUD, "--json", "--bogus"], "No such option: --bogus"),
        (
            ["validate", FRAUD, "--env", "dev", "--all-envs", "--json"],
            "Invalid value for --env: give --env or --all-envs, not both",
        ),
        (
            ["graph", FRAUD, "--json", "--format", "svg"],
            "Invalid value for '--format' / '-f': Value error, 'svg' is not one of 'mermaid', 'dot', 'json'.",
        ),
    ],
    ids=["missing-argument", "unknown-option", "raised-by-the-command", "bad-choice"],
)
def test_usage_errors_under_json_are_json_on_stdout(args: list[str], message: str) -> None:
    code, out, err = _run(*args)
    assert code == 2
    assert json.loads(out) == _usage_failure(message)
    assert err == f"error: {message}\n"


def test_usage_error_without_json_is_clicks_usage_message() -> None:
    code, out, err = _run("plan")
    assert (code, out) == (2, "")
    assert "Usage: mlplatform plan [OPTIONS]" in err and "Missing argument" in err


def test_invalid_input_under_json_is_json_on_stdout_and_a_message_on_stderr() -> None:
    code, out, err = _run("plan", FRAUD, "--stack", "nowhere", "--json")
    assert code == 1
    assert json.loads(out) == {
        "error": {"kind": "invalid", "exit_code": 1, "message": "stacks/Pulumi.nowhere.yaml: stack file not found"}
    }
    assert err == "error: stacks/Pulumi.nowhere.yaml: stack file not found\n"


def test_blueprint_problems_under_json_carry_the_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from mlplatform import Platform\nplatform = Platform(name='demo')\n")
    code, out, err = _run("cost", str(bad), "--env", "dev", "--json")
    assert code == 1
    message = f"{bad}:2: Platform 'demo', field 'team': is required; add team=..."
    assert err == f"{message}\n"
    assert json.loads(out) == {
        "error": {
            "kind": "invalid",
            "exit_code": 1,
            "message": message,
            "problems": [
                {
                    "file": str(bad),
                    "line": 2,
                    "component": "Platform 'demo'",
                    "field": "team",
                    "message": "is required; add team=...",
                    "env": None,
                    "severity": "error",
                }
            ],
        }
    }


def _interrupt(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("command", ["plan", "diff", "graph", "cost"])
def test_ctrl_c_says_what_state_was_left(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mlplatform.plan.build.build_plan", _interrupt)
    args = ["--from", "dev", "--to", "prod"] if command == "diff" else ["--env", "dev"]
    assert _run(command, FRAUD, *args) == (130, "", f"\n{PLAN_INTERRUPTED}\n")
    code, out, err = _run(command, FRAUD, *args, "--json")
    assert (code, err) == (130, f"\n{PLAN_INTERRUPTED}\n")
    assert json.loads(out) == {"error": {"kind": "interrupted", "exit_code": 130, "message": PLAN_INTERRUPTED}}


def test_a_real_sigint_in_a_real_process(tmp_path: Path) -> None:
    """The console script, interrupted by SIGINT while it runs the blueprint: exit 130, said."""
    blueprint = tmp_path / "interrupts.py"
    blueprint.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n")
    proc = subprocess.run(
        [str(MLPLATFORM), "plan", str(blueprint), "--env", "dev"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert (proc.returncode, proc.stdout) == (130, "")
    assert proc.stderr == f"\n{PLAN_INTERRUPTED}\n"
    proc = subprocess.run(
        [str(MLPLATFORM), "validate", str(blueprint)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (130, "", "\ninterrupted: nothing was created or changed\n")


def test_json_usage_error_through_the_console_script() -> None:
    proc = subprocess.run([str(MLPLATFORM), "plan", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert json.loads(proc.stdout) == _usage_failure("Missing argument 'BLUEPRINT'.")


def _asking_app() -> typer.Typer:
    small = typer.Typer()

    @small.command()
    def act(yes: bool = False, as_json: bool = typer.Option(False, "--json")) -> None:
        output.confirm("promote fraud-xgb 7 to prod (production).", yes=yes, as_json=as_json)
        output.print_json({"done": True}) if as_json else typer.echo("done")

    return small


def test_confirm_asks_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "interactive", lambda: True)
    result = CliRunner().invoke(_asking_app(), ["--json"], input="y\n")
    assert result.exit_code == 0
    # CliRunner echoes the typed answer into stdout (a terminal shows it on the tty); the rest of
    # stdout is one JSON document, and the question went to stderr.
    typed, document = result.stdout.split("\n", 1)
    assert typed.strip() == "y"
    assert json.loads(document) == {"done": True}
    assert result.stderr == "promote fraud-xgb 7 to prod (production). Continue? [y/N]:"
    result = CliRunner().invoke(_asking_app(), [], input="n\n")
    assert (result.exit_code, result.stdout.strip()) == (1, "n")
    assert result.stderr.endswith("aborted: nothing was changed\n")


def test_confirm_without_a_terminal_names_yes() -> None:
    result = CliRunner().invoke(_asking_app(), [])  # CliRunner's stdin is not a terminal
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: promote fraud-xgb 7 to prod (production). needs confirmation, and there is no terminal to ask on; "
        "pass --yes\n"
    )
    assert CliRunner().invoke(_asking_app(), ["--yes"]).stdout == "done\n"


def test_write_atomically_leaves_the_old_file_when_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "graph.mmd"
    target.write_text("old\n")

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        output.write_atomically(target, "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.mmd"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["promote", "fraud-xgb", "--from", "staging", "--to", "prod", "--by", "bob", "--approved-by", "alice"],
            "Invalid value for --by: --by bob and --approved-by alice disagree; --approved-by is the old spelling "
            "of --by: give --by only",
        ),
        (
            ["rollback", "fraud-xgb", "--env", "prod", "--version", "3", "--to-version", "2"],
            "Invalid value for --version: --version 3 and --to-version 2 disagree; --to-version is the old "
            "spelling of --version: give --version only",
        ),
    ],
)
def test_an_option_and_its_old_spelling_that_disagree_are_a_usage_error(args: list[str], message: str) -> None:
    # Before anything is looked up: no project, no AWS call decides which one wins.
    code, out, err = _run(*args, "--json")
    assert (code, err) == (2, f"error: {message}\n")
    assert json.loads(out) == {"error": {"kind": "usage", "exit_code": 2, "message": message}}
