"""The Pulumi program: a resolved blueprint plus stack config become components.

`stacks/__main__.py` calls `main()`; the offline plan runs the very same file under mocks.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from mlplatform import naming
from mlplatform.blueprint import load
from mlplatform.context import ProgramContext
from mlplatform.errors import MlplatformError
from mlplatform.stack_config import PROJECT, check_keys, find_project_root, parse_models


def config_keys() -> list[str]:
    """Every config key the engine gave this run: `pulumi up` passes them as the PULUMI_CONFIG
    environment variable, the SDK's mocks and inline programs set them in-process."""
    from pulumi.runtime import config as runtime_config

    return sorted({*runtime_config.get_config_env(), *runtime_config.CONFIG.get()})


def load_context() -> ProgramContext:
    config = pulumi.Config(PROJECT)
    # A mistyped key (mlplatform:modles) would otherwise deploy as if it were absent.
    check_keys(config_keys(), f"stack '{pulumi.get_stack()}'")
    root = find_project_root(Path.cwd())
    blueprint = config.get("blueprint")
    if not blueprint:
        raise MlplatformError(f"stack '{pulumi.get_stack()}' sets no {PROJECT}:blueprint")
    env = config.get("environment") or pulumi.get_stack()
    platform = load(root / blueprint).resolve(env)
    models = parse_models(config.get_object("models"), f"stack '{pulumi.get_stack()}'")
    return ProgramContext(
        platform=platform,
        env=env,
        project_root=root,
        blueprint=blueprint,
        models=models,
        config=config,
        names=naming.Names(platform.name, env),
    )


def build(ctx: ProgramContext) -> None:
    """Create the platform's resources: AWS first (core, network, clusters), then Kubernetes,
    which may deploy onto a cluster the AWS side created (published in `ctx.shared`)."""
    from mlplatform.components import aws, k8s, tracking
    from mlplatform.components.k8s import training_pipeline

    aws.build(ctx)
    k8s.build(ctx)
    tracking.build(ctx)  # experiment trackers into the training jobs both sides built
    training_pipeline.build(ctx)  # Kubernetes TrainingPipelines, on the clusters both sides built
    # Secure defaults turned off, as (component, opt-out) pairs both sides recorded.
    pulumi.export("opt_outs", [f"{c}:{o}" for c, o in ctx.shared.get("opt_outs", [])])
    pulumi.export("platform", ctx.platform.name)
    pulumi.export("environment", ctx.env)


def under_mocks() -> bool:
    """Whether this run is the offline plan (Pulumi's SDK mocks), which has no credentials."""
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    return isinstance(get_monitor(), MockMonitor)


def verify_against_ledger(ctx: ProgramContext) -> None:
    """With credentials, each promoted model must be the head of the environment's verified
    ledger (mlplatform.promotion.deployed); the offline plan checks names and digests only
    (mlplatform.admission, in the AWS components)."""
    if not ctx.models or under_mocks():
        return
    from mlplatform.promotion import deployed

    found = deployed.problems(ctx.project_root, ctx.env, ctx.models)
    if found:
        raise MlplatformError(
            f"stack '{pulumi.get_stack()}' does not deploy what the {ctx.env} ledger says was promoted:\n"
            + "\n".join(f"  - {p}" for p in found)
            + "\nPromote with `mlplatform promote` (never by editing the stack file); `mlplatform status` shows drift"
        )


def main() -> None:
    try:
        ctx = load_context()
        verify_against_ledger(ctx)
        build(ctx)
    except MlplatformError as exc:
        # Raised as a RunError so `pulumi up` prints the message without a Python traceback.
        raise pulumi.RunError(str(exc)) from None
