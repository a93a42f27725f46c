"""Run the Pulumi program in-process under the SDK's mocks and capture what it registers.

This is the same program `pulumi up` runs (stacks/__main__.py), with the stack file's config
merged over Pulumi.yaml's defaults (the engine applies those; mocks do not). Each run gets a
fresh event loop and runtime settings, so several environments can be planned in one process
without the first leaking into the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import runpy
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func

from mlplatform.plan.mocks import PlaceholderMocks
from mlplatform.plan.model import PlannedResource


@dataclass
class Captured:
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    stack_urn: str = ""
    # Resource options the engine receives but a plan's resources do not show, by URN: custom
    # timeouts (only the ones set), deleteBeforeReplace, replaceOnChanges, ignoreChanges.
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


class CapturingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also recording parent, provider, dependencies and inputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks, captured: Captured) -> None:
        super().__init__(mocks)
        self.captured = captured

    def RegisterResource(self, request: Any) -> Any:  # gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self.captured.stack_urn = response.urn
            return response
        inputs = rpc.deserialize_properties(request.object)
        self.captured.resources.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                provider=request.provider or None,
                dependencies=sorted(set(request.dependencies)),
                inputs=plain(inputs),
                custom=bool(request.custom),
                protect=bool(request.protect),
            )
        )
        timeouts = {k: v for k in ("create", "update", "delete") if (v := getattr(request.customTimeouts, k))}
        self.captured.options[response.urn] = {
            "customTimeouts": timeouts,
            "deleteBeforeReplace": bool(request.deleteBeforeReplace),
            "replaceOnChanges": list(request.replaceOnChanges),
            "ignoreChanges": list(request.ignoreChanges),
        }
        return response


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


def run_program(
    main: Path,
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    region: str = "us-east-1",
) -> Captured:
    """Run `main` (a Pulumi program file) under mocks; raises whatever the program raises."""
    with _working_directory(main.parent):
        return capture(
            lambda: runpy.run_path(str(main), run_name="__main__"),
            project=project,
            stack=stack,
            config=config,
            region=region,
        )


def capture(
    program: Callable[[], object],
    *,
    project: str = "mlplatform",
    stack: str = "dev",
    config: dict[str, str] | None = None,
    region: str = "us-east-1",
) -> Captured:
    """Run `program` (any callable that registers resources) under mocks and capture them."""
    captured = Captured()
    logger = logging.getLogger(f"mlplatform.plan.{stack}")
    logger.propagate = False
    handler = _Collect(captured.warnings)
    logger.addHandler(handler)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    thread_loops: list[asyncio.AbstractEventLoop] = []
    executor = ThreadPoolExecutor(initializer=_thread_loop, initargs=(thread_loops,))
    loop.set_default_executor(executor)
    try:
        settings.reset_options(project=project, stack=stack, preview=False)
        set_all_config(dict(config or {}))
        mocks = PlaceholderMocks(region=region)
        monitor = CapturingMonitor(mocks, captured)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, logger=logger, monitor=monitor)
        root = settings.get_root_resource()
        with _no_source_positions():
            loop.run_until_complete(run_pulumi_func(lambda: _discard(program())))
        if root is not None:
            captured.outputs = _stack_outputs(loop, root)
    finally:
        logger.removeHandler(handler)
        settings.ROOT.set(None)
        asyncio.set_event_loop(None)
        loop.close()  # also joins the executor's threads
        for other in thread_loops:
            other.close()
    return captured


@contextlib.contextmanager
def _no_source_positions() -> Iterator[None]:
    """Skip the SDK's per-resource stack walk (it reads source lines: ~1 ms a resource).

    The engine sends source positions to the Pulumi service for display; mocks ignore them, so
    under the plan they are pure cost. A private SDK function: if a release renames it, the
    plan only loses this speed-up.
    """
    from pulumi.runtime import resource as sdk_resource

    original = getattr(sdk_resource, "_get_stack_trace", None)
    if original is None:
        yield
        return
    empty = type(original())  # the SDK's StackTrace message class, without frames
    sdk_resource._get_stack_trace = empty
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original


def _discard(_: object) -> None:
    return None


def _thread_loop(sink: list[asyncio.AbstractEventLoop]) -> None:
    """Give each SDK worker thread an event loop we can close: the SDK otherwise creates one
    per thread that is only collected at exit, with a noisy 'Exception ignored' message."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sink.append(loop)


def _stack_outputs(loop: asyncio.AbstractEventLoop, root: Any) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for key, value in dict(getattr(root, "outputs", {}) or {}).items():
        output = pulumi.Output.from_input(value)
        secret = loop.run_until_complete(output.is_secret())  # masked as `pulumi preview` masks it
        outputs[key] = "[secret]" if secret else plain(loop.run_until_complete(output.future()))
    return outputs


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    # `pulumi up` runs the program with its folder (stacks/) as the working directory.
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def plain(value: Any) -> Any:
    """JSON-safe copy of deserialized property values."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:  # a secret
            return "[secret]"
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # Protobuf carries every number as a double; the program wrote an integer.
        return int(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, pulumi.Resource):
        return f"<resource {type(value).__name__}>"
    return str(value)
