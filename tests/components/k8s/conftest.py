"""Fixtures: the Kubernetes example's program, run once per environment under SDK mocks."""

from __future__ import annotations

import pytest

from mlplatform.plan.engine import Captured
from tests.components.conftest import run_stack

STACKS = ("recs-dev", "recs-staging", "recs-prod")


@pytest.fixture(scope="session")
def programs() -> dict[str, Captured]:
    return {stack: run_stack(stack) for stack in STACKS}


@pytest.fixture(scope="session")
def prod(programs: dict[str, Captured]) -> Captured:
    return programs["recs-prod"]
