"""Ctrl-C during `mlplatform register` says what state was left (the CLI's contract: never a silent
exit, never "nothing was changed" when something may have been), and the advice it gives works."""

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
