"""Fixtures: the programs of the Kubernetes examples (every environment of each, with the sample
promoted models of stacks/samples/: the stack files name none before a promotion), run once under
SDK mocks, and each example's blueprint resolved for the stack's environment, so tests assert
what each blueprint declares rather than one example's names."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest

from mlplatform import stack_config
from mlplatform.blueprint import load
from mlplatform.plan.engine import Captured
from mlplatform.spec.model_endpoint import ModelEndpoint
from mlplatform.spec.platform import Platform
from tests.components.conftest import STACKS as STACK_DIR
from tests.components.conftest import run_promoted
from tests.conftest import ROOT

# Every stack of the Kubernetes examples: recommender_k8s.py (KServe Serverless, IRSA) and
# search_k8s.py (KServe RawDeployment, EKS Pod Identity).
STACKS = ("recs-dev", "recs-staging", "recs-prod", "search-dev", "search-prod")
PROD_STACKS = ("recs-prod", "search-prod")


@dataclass(frozen=True)
class Example:
    """One stack of a Kubernetes example: its blueprint resolved for the stack's environment."""

    stack: str
    blueprint: str
    env: str
    spec: Platform

    @property
    def prefix(self) -> str:  # <platform>-<env>: names, and the serving namespace
        return f"{self.spec.name}-{self.env}"

    @property
    def endpoints(self) -> list[ModelEndpoint]:
        return [c for c in self.spec.of_kind(ModelEndpoint) if c.target == "kubernetes"]


@functools.cache
def example(stack: str) -> Example:
    config = stack_config.read(STACK_DIR / f"Pulumi.{stack}.yaml")
    assert config.blueprint is not None
    spec = load(ROOT / config.blueprint).resolve(config.environment)
    return Example(stack, config.blueprint, config.environment, spec)


class Programs(dict[str, Captured]):
    """Each stack's program with its models promoted (the stack's sample in stacks/samples/), run
    on first use (a test of one stack runs only that one)."""

    def __missing__(self, stack: str) -> Captured:
        self[stack] = captured = run_promoted(stack)
        return captured


@pytest.fixture(scope="session")
def programs() -> dict[str, Captured]:
    return Programs()


@pytest.fixture(scope="session")
def prod(programs: dict[str, Captured]) -> Captured:
    return programs["recs-prod"]
