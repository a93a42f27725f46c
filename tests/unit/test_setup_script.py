"""scripts/setup shows its progress instead of minutes of silence, is quiet and instant when
nothing changed, and says what failed. Run with a stand-in python3 and pip on PATH: the real
install needs the network and minutes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

FAKE_PYTHON = r"""#!/usr/bin/env bash
# Stands in for python3 (and, copied into .venv/bin, for the venv's python with pip).
case "$1" in
  --version) echo "Python 3.11.7" ;;
  -c) exit "${FAKE_OLD_PYTHON:-0}" ;;
  -m)
    if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi
    # pip installs the installer: a stand-in uv that prints what uv prints
    if [ "$2" = pip ]; then cp "$FAKE_UV" .venv/bin/uv; exit 0; fi
    ;;
esac
"""

FAKE_UV = r"""#!/usr/bin/env bash
# Stands in for uv: its step lines on stderr, one line per package in between.
echo "Using Python 3.11.7 environment at: .venv" >&2
echo "Resolved 30 packages in 1.20s" >&2
if [ -n "${FAKE_PIP_FAIL:-}" ]; then
  for i in $(seq 1 25); do echo "  Downloading package-$i" >&2; done
  echo "error: Failed to download package-31" >&2; exit 1
fi
echo "Prepared 30 packages in 41.5s" >&2
echo "Installed 30 packages in 0.80s" >&2
for i in $(seq 1 30); do echo " + package-$i==1.0" >&2; done
"""


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    python = bin_dir / "python3"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    uv = bin_dir / "fake-uv"
    uv.write_text(FAKE_UV)
    uv.chmod(0o755)
    for tool in ("redis-server", "promtool", "amtool"):  # present: the test never runs apt-get
        (bin_dir / tool).write_text("#!/bin/sh\n")
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_UV": str(uv)}
    return tmp_path, env


def _setup(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(folder / "scripts" / "setup")], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )


def _shown(stderr: str) -> list[str]:
    return [re.sub(r"^setup \[ *\d+s\]", "setup [Ns]", line) for line in stderr.splitlines()]


def test_a_first_run_shows_each_step_and_the_installers_progress(checkout: tuple[Path, dict[str, str]]) -> None:
    folder, env = checkout
    proc = _setup(folder, env)
    assert (proc.returncode, proc.stdout) == (0, "")
    assert _shown(proc.stderr) == [
        "setup [Ns] creating .venv (Python 3.11.7)",
        "setup [Ns] installing uv (the installer: it resolves and downloads in parallel, minutes faster than pip)",
        "setup [Ns] installing mlplatform and its test tools (first run: a minute or two; log: .venv/setup.log)",
        "setup         Resolved 30 packages in 1.20s",
        "setup         Prepared 30 packages in 41.5s",
        "setup         Installed 30 packages in 0.80s",
        "setup [Ns] done",
    ]
    assert " + package-30==1.0" in (folder / ".venv" / "setup.log").read_text()
    # Unchanged pyproject.toml: nothing to do, nothing said.
    again = _setup(folder, env)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


def test_a_failed_install_says_so_with_the_end_of_the_log(checkout: tuple[Path, dict[str, str]]) -> None:
    folder, env = checkout
    proc = _setup(folder, {**env, "FAKE_PIP_FAIL": "1"})
    assert proc.returncode == 1
    lines = _shown(proc.stderr)
    assert lines[-21] == "setup [Ns] failed; the end of .venv/setup.log:"
    assert lines[-1] == "error: Failed to download package-31"
    assert not (folder / ".venv" / ".mlplatform-installed").exists()  # the next run tries again


def test_an_old_python_is_named(checkout: tuple[Path, dict[str, str]]) -> None:
    folder, env = checkout
    proc = _setup(folder, {**env, "FAKE_OLD_PYTHON": "1"})
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "setup: mlplatform needs Python 3.11 or newer as python3; found: Python 3.11.7\n"
