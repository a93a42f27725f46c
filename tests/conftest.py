"""Shared fixtures. Paths are absolute so tests pass from any working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def root() -> Path:
    return ROOT
