"""The README's command table is what a new user types: every option it shows exists on that
command, and every command of the CLI is in the table (so the table cannot drift from the CLI)."""

from __future__ import annotations

import re
from typing import Any

import typer

from mlplatform.cli.app import app
from tests.conftest import ROOT


def _table() -> dict[str, set[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `mlplatform ([a-z-]+(?: render)?)([^`]*)` \|", readme, re.MULTILINE)
    return {name: set(re.findall(r"(--[a-z][a-z-]*)", usage)) for name, usage in rows}


def _commands() -> dict[str, Any]:
    """Command name -> its click command (typer may carry its own copy of click: duck-typed)."""
    group: Any = typer.main.get_command(app)
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update({f"{name} {sub}": c for sub, c in command.commands.items()})
        else:
            found[name] = command
    return found


def test_every_option_in_the_readme_exists() -> None:
    commands = _commands()
    missing = {
        name: sorted(flags - {o for p in commands[name].params for o in p.opts})
        for name, flags in _table().items()
    }
    assert {name: flags for name, flags in missing.items() if flags} == {}


def test_every_command_is_in_the_readme() -> None:
    assert sorted(_commands()) == sorted(_table())
