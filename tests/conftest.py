"""Shared fixtures. Paths are absolute so tests pass from any working directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"


def _find_shared() -> Path:
    """The read-only shared/ folder (upstream CRDs and schemas, never copied into the project).

    CI lays it beside the repository. A local clone of a checkout (`git clone . /tmp/x`) finds
    it beside the checkout it was cloned from. If neither exists, the path beside the
    repository is returned, and the tests that read it fail naming that path.
    """
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        return beside
    origin = subprocess.run(
        ["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        candidate = Path(origin).resolve().parent / "shared"
        if candidate.is_dir():
            return candidate
    return beside


SHARED = _find_shared()


@pytest.fixture
def root() -> Path:
    return ROOT
