"""Ctrl-C during `mlplatform register` and `approve` says what state was left (the CLI's contract: never
a silent exit, never "nothing was changed" when something may have been), and its advice works."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlplatform.promotion import transfer
from tests.integration.conftest import IMAGE, MODEL, cli, ledger_items, register


def test_ctrl_c_during_the_upload(
    project: Path, artifact: Path, good_metrics: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(transfer, "upload", interrupted)
        args = ["register", MODEL, "--env", "dev", "--artifact", str(artifact), "--image", IMAGE]
        result = cli(project, *args, "--metrics", str(good_metrics))
        assert (result.exit_code, result.stdout) == (130, "")
        assert result.stderr == (
            f"\ninterrupted: {MODEL} was not registered in dev: no manifest or ledger entry names a new version "
            "(a reserved version number or an unused upload may be left). Run the same `mlplatform register` "
            "again: it takes the next version number\n"
        )
        pinned = cli(project, *args, "--version", "7", "--json")
        assert pinned.exit_code == 130
        assert json.loads(pinned.stdout)["error"]["message"].endswith(
            "Register again with another --version: 7 may be reserved"
        )
    assert ledger_items("dev") == []
    # The advice holds: the same command again registers, under the number after the reserved 1 and 7.
    assert register(project, artifact, good_metrics) == "8"
    assert [json.loads(i["entry"]["S"])["version"] for i in ledger_items("dev")] == ["8"]


def test_ctrl_c_during_an_approval(
    project: Path, artifact: Path, good_metrics: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlplatform.promotion import approvals

    version = register(project, artifact, good_metrics)
    assert cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version).exit_code == 0
    before = ledger_items("staging")

    class Interrupted(approvals.Ledger):
        def append(self, *_args: Any, **_kwargs: Any) -> Any:
            raise KeyboardInterrupt

    args = ["approve", MODEL, "--env", "staging", "--version", version, "--reason", "offline eval ok"]
    with monkeypatch.context() as patch:
        patch.setattr(approvals, "Ledger", Interrupted)
        result = cli(project, *args, person="alice")
    assert (result.exit_code, result.stdout) == (130, "")
    assert result.stderr == (
        f"\ninterrupted: no approval of {MODEL} {version} in staging was recorded in the ledger, so promotion does "
        "not count it (its SageMaker model package may already show the new status). Run the same "
        "`mlplatform approve` again\n"
    )
    assert ledger_items("staging") == before
    again = cli(project, *args, person="alice")
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith(f"approved {MODEL} {version} in staging by alice: offline eval ok")
