"""Validation speed: blueprints of 10, 100 and 1,000 components, every environment, and the
CLI's start-up time. Prints figures; it is not a test.

    .venv/bin/python benchmarks/validate.py

Targets: 1,000 components x 3 environments validated in under 1 s; `mlplatform --help` in under
0.5 s without importing pulumi, pulumi_aws or pulumi_kubernetes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 1000)
WARM_RUNS = 5
HELP_RUNS = 7


def blueprint_source(components: int) -> str:
    """A blueprint with a realistic mix: per 10 components, 2 feature stores, 2 training clusters
    (two node pools each), 4 SageMaker endpoints and 2 monitoring stacks, with per_env values."""
    parts: list[str] = []
    endpoints: list[str] = []
    for i in range(components):
        n = f"{i:04d}"
        slot = i % 10
        if slot in (0, 1):
            parts.append(
                f"FeatureStore(name='fs-{n}', offline_retention_days=per_env(dev=30, default=365), online_ttl_days=90)"
            )
        elif slot in (2, 3):
            parts.append(
                f"TrainingCluster(name='tc-{n}', node_pools=["
                f"NodePool(name='cpu', instance_type='m6i.2xlarge', min_nodes=1, max_nodes=per_env(dev=2, default=6)), "
                f"NodePool(name='gpu', instance_type='g5.2xlarge', gpu=True, "
                f"max_nodes=per_env(dev=2, prod=16, default=4), spot=per_env(dev=True, default=False))], "
                f"quota=Quota(gpus=per_env(dev=2, default=8)))"
            )
        elif slot in (4, 5, 6, 7):
            endpoints.append(f"ep-{n}")
            parts.append(
                f"ModelEndpoint(name='ep-{n}', model='model-{n}', instance_type='ml.m5.xlarge', "
                f"min_instances=per_env(dev=1, default=2), max_instances=per_env(dev=1, default=8), "
                f"data_capture_percent=per_env(dev=0, default=20), deployment=Canary(percent=10), "
                f"gates=per_env(dev=MetricGates(), default=MetricGates(minimum={{'auc': 0.9}})))"
            )
        else:
            watched, endpoints = endpoints[:2], endpoints[2:]
            parts.append(
                f"MonitoringStack(name='mon-{n}', endpoints={watched!r}, notify=['oncall@example.com'], "
                f"latency_p99_ms=per_env(dev=500, default=200))"
            )
    if endpoints:  # endpoints of a partial last group are watched too (canary rollouts need alarms)
        parts.append(f"MonitoringStack(name='mon-rest', endpoints={endpoints!r})")
    body = ",\n        ".join(parts)
    return (
        "from mlplatform import (Canary, FeatureStore, MetricGates, ModelEndpoint, MonitoringStack, NodePool,\n"
        "                        Platform, Quota, TrainingCluster, per_env)\n\n"
        "platform = Platform(\n"
        "    name='bench', team='platform', region='us-east-1', environments=['dev', 'staging', 'prod'],\n"
        f"    components=[\n        {body},\n    ],\n)\n"
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median_time(fn: Callable[[], Any], runs: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(runs))


def bench_validation(folder: Path) -> None:
    from pydantic import TypeAdapter

    from mlplatform.blueprint import load
    from mlplatform.spec import instance_types
    from mlplatform.spec.platform import Platform
    from mlplatform.spec.resolve import resolve

    envs = ["dev", "staging", "prod"]
    adapter: TypeAdapter[Platform] = TypeAdapter(Platform)
    print(f"validate, all 3 environments (median of {WARM_RUNS} warm runs)")
    header = f"{'components':>10} {'load':>8} {'cold':>8} {'warm':>8} {'baseline':>9} {'ratio':>6} {'problems':>8}"
    print(header)
    for size in SIZES:
        path = folder / f"bench_{size}.py"
        path.write_text(blueprint_source(size))
        load_s, blueprint = timed(lambda p=path: load(p))  # type: ignore[misc]
        instance_types.known.cache_clear()  # cold: read the instance types again (from the disk cache)
        cold_s, result = timed(blueprint.validate)
        assert result.ok and list(result.specs) == envs, [str(p) for p in result.problems[:5]]
        warm_s = median_time(blueprint.validate, WARM_RUNS)
        resolved = [resolve(blueprint.raw, env, envs)[0] for env in envs]
        baseline_s = median_time(lambda r=resolved: [adapter.validate_python(x) for x in r], WARM_RUNS)  # type: ignore[misc]
        print(
            f"{size:>10} {load_s * 1000:>6.1f}ms {cold_s * 1000:>6.1f}ms {warm_s * 1000:>6.1f}ms "
            f"{baseline_s * 1000:>7.1f}ms {warm_s / baseline_s:>5.1f}x {len(result.problems):>8}"
        )
    print("  load: run the blueprint file; cold: first validation in the process, instance types read from")
    print("  the cache file; warm: later validations; baseline: plain pydantic TypeAdapter(Platform) over the")
    print("  same data already resolved for each environment (no per_env, no located messages, no rules).")


def bench_instance_type_cache() -> None:
    with tempfile.TemporaryDirectory() as cache:
        code = (
            "import time; t = time.perf_counter(); from mlplatform.spec import instance_types as i; i.known(); "
            "print(time.perf_counter() - t)"
        )
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        first = float(_python(code, env))
        second = float(_python(code, env))
    print(
        f"instance types from botocore's service models: {first * 1000:.0f}ms; from the cache file: "
        f"{second * 1000:.1f}ms"
    )


def bench_help() -> None:
    import resource

    exe = Path(sys.executable).parent / "mlplatform"
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(HELP_RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(timed(lambda: subprocess.run([str(exe), "--help"], capture_output=True, check=True))[0])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    probe = (
        "import json, sys\nfrom typer.testing import CliRunner\nfrom mlplatform.cli.app import app\n"
        "CliRunner().invoke(app, ['--help'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pulumi', 'pulumi_aws', 'pulumi_kubernetes'))))"
    )
    heavy = json.loads(_python(probe))
    importtime = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import mlplatform.cli.app"], capture_output=True, text=True
    ).stderr
    cumulative = [line for line in importtime.splitlines() if line.rstrip().endswith("| mlplatform.cli.app")]
    app_us = int(cumulative[-1].split("|")[1]) if cumulative else 0
    print(
        f"mlplatform --help: median {statistics.median(walls) * 1000:.0f}ms wall, "
        f"{statistics.median(cpus) * 1000:.0f}ms CPU over {HELP_RUNS} runs (min {min(walls) * 1000:.0f}ms wall); "
        f"importing mlplatform.cli.app: {app_us / 1000:.0f}ms"
    )
    print(f"  pulumi / pulumi_aws / pulumi_kubernetes imported by --help: {', '.join(heavy) or 'none'}")


def _python(code: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    return proc.stdout.strip()


def main() -> None:
    load1, _, _ = os.getloadavg()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores, load average {load1:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        bench_validation(Path(folder))
    bench_instance_type_cache()
    bench_help()


if __name__ == "__main__":
    main()
