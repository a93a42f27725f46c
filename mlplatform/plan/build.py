"""build_plan: validate the blueprint, run the program under mocks, check the guardrails."""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplatform.errors import MlplatformError
from mlplatform.plan import stacks
from mlplatform.plan.model import Plan, PlannedResource
from mlplatform.stack_config import StackConfig


@dataclass
class PlanTimings:
    validate: float = 0.0
    program: float = 0.0
    policy: float = 0.0


def build_plan(
    blueprint: str | Path,
    env: str | None = None,
    *,
    stack: str | None = None,
    stack_file: str | Path | None = None,
    root: Path | None = None,
    timings: PlanTimings | None = None,
    flags: stacks.StackFlags = stacks.PLAN_FLAGS,
) -> Plan:
    """The offline plan of `blueprint` for one environment: every resource the program
    registers, with its inputs, and the guardrail findings with waivers applied.

    Raises BlueprintInvalid (with located messages) for an invalid blueprint and
    MlplatformError for a bad stack file or a program that fails.
    """
    from mlplatform.blueprint import load
    from mlplatform.plan.engine import run_program
    from mlplatform.policy import evaluate

    timings = timings or PlanTimings()
    path = Path(blueprint)
    root = root or stacks.project_root(path)
    started = time.perf_counter()
    loaded = load(path)
    # With --env known, the blueprint's own problems come first: they are what to fix.
    platform = loaded.resolve(env) if env is not None else None
    timings.validate = time.perf_counter() - started
    config = stacks.select(
        root, path, env=env, stack=stack, stack_file=Path(stack_file) if stack_file is not None else None, flags=flags
    )
    environment = config.environment
    missing = stacks.missing_required(root, config)
    if missing:
        keys = ", ".join(missing)
        raise MlplatformError(
            f"{_where(config)}: sets no {keys}; Pulumi.yaml declares it without a default, so `pulumi up` "
            f"would refuse this stack (\"missing configuration value\"). Add it to the stack file"
        )
    notes: list[str] = []
    other = stacks.substituted(root, config, path)
    if other is not None:
        notes.append(f"{_where(config)} deploys {other}; this plan uses {blueprint} in its place")

    if platform is None:
        started = time.perf_counter()
        platform = loaded.resolve(environment)  # BlueprintInvalid lists every problem
        timings.validate += time.perf_counter() - started

    project, main = stacks.project_settings(root)
    region = str(config.values.get("aws:region") or platform.region)
    started = time.perf_counter()
    try:
        captured = run_program(
            main,
            project=project,
            stack=config.stack,
            config=stacks.program_config(root, config, path, environment),
            region=region,
        )
    except MlplatformError:
        raise
    except Exception as exc:  # the program is user-facing: say what failed, not a traceback
        raise MlplatformError(f"{_where(config)}: the program failed: {_describe(exc)}") from None
    timings.program = time.perf_counter() - started

    started = time.perf_counter()
    outcome = evaluate(ordered(captured.resources), environment, platform)
    timings.policy = time.perf_counter() - started
    return Plan(
        project=project,
        stack=config.stack,
        environment=environment,
        blueprint=str(blueprint),
        platform=platform.name,
        resources=ordered(captured.resources),
        outputs=captured.outputs,
        violations=outcome.violations,
        warnings=captured.warnings,
        notes=notes,
        endpoints=_endpoints(platform, config),
        region=region,
        waivers=outcome.waivers,
        opt_outs=outcome.opt_outs,
    )


def _endpoints(platform: Any, config: StackConfig) -> list[dict[str, Any]]:
    """Each endpoint with the model version its stack file promotes (None values when none is)."""
    from mlplatform.spec.model_endpoint import ModelEndpoint

    promoted = config.models
    out = []
    for endpoint in platform.of_kind(ModelEndpoint):
        model = promoted.get(endpoint.model)
        image = endpoint.image if endpoint.target == "kubernetes" and endpoint.image else None
        image = image or (model.image if model else None)
        out.append(
            {
                "endpoint": endpoint.name,
                "model": endpoint.model,
                "target": endpoint.target,
                "version": model.version if model else None,
                "uri": model.uri if model else None,
                "sha256": model.sha256 if model else None,
                "image": image if model else None,
            }
        )
    return out


def ordered(resources: list[PlannedResource]) -> list[PlannedResource]:
    """Resources in a stable order: parents and dependencies first, otherwise by URN. The
    engine registers concurrently, so the order resources arrive in varies between runs."""
    by_urn = {r.urn: r for r in resources}
    waiting: dict[str, set[str]] = {}
    needed_by: dict[str, list[str]] = {}
    for r in resources:
        before = {u for u in (r.parent, *r.dependencies) if u in by_urn and u != r.urn}
        waiting[r.urn] = before
        for u in before:
            needed_by.setdefault(u, []).append(r.urn)
    ready = [u for u, before in waiting.items() if not before]
    heapq.heapify(ready)
    out: list[PlannedResource] = []
    while ready:
        urn = heapq.heappop(ready)
        out.append(by_urn[urn])
        for later in needed_by.get(urn, ()):
            waiting[later].discard(urn)
            if not waiting[later]:
                heapq.heappush(ready, later)
    if len(out) < len(resources):  # a cycle cannot happen in Pulumi; keep whatever is left
        placed = {r.urn for r in out}
        out += sorted((r for r in resources if r.urn not in placed), key=lambda r: r.urn)
    return out


def _where(config: StackConfig) -> str:
    from mlplatform.stack_config import display

    return f"stack '{config.stack}'" + (f" ({display(config.path)})" if config.path else "")


def _describe(exc: BaseException) -> str:
    import pulumi

    if isinstance(exc, pulumi.RunError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
