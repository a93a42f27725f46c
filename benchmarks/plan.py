"""Plan speed: blueprints with 1, 10, 100 and 300 SageMaker endpoints (with monitoring).

For each size it prints the resources planned, the plan time (validation, the program under
mocks, guardrails) and the ratio against a bare Pulumi program that registers the identical
resources (same types, names, inputs, parents, dependencies) under the same mocks in the same
process. Targets: ratio <= 1.2, and 1,000 resources planned in under 5 s.

    .venv/bin/python benchmarks/plan.py [--sizes 1,10,100,300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlplatform.plan.build import PlanTimings, build_plan, ordered  # noqa: E402
from mlplatform.plan.engine import capture  # noqa: E402
from mlplatform.plan.model import Plan, PlannedResource  # noqa: E402


def blueprint(n: int) -> str:
    endpoints = "\n".join(
        f'        ModelEndpoint(name="ep{i}", model="m{i}", instance_type="ml.m5.large", '
        "min_instances=2, max_instances=4, data_capture_percent=10),"
        for i in range(n)
    )
    names = ", ".join(f'"ep{i}"' for i in range(n))
    return f"""from mlplatform import ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="bench",
    team="perf",
    region="us-east-1",
    components=[
{endpoints}
        MonitoringStack(name="monitoring", endpoints=[{names}], notify=["oncall@example.com"]),
    ],
)
"""


def stack_file(n: int, path: Path) -> str:
    lines = ["config:", "  aws:region: us-east-1", f"  mlplatform:blueprint: {path}", "  mlplatform:models:"]
    for i in range(n):
        lines += [
            f"    m{i}:",
            '      version: "1"',
            f"      uri: s3://bench-prod-model-registry-123456789012/models/m{i}/1/model.tar.gz",
            f"      sha256: {'a' * 64}",
            "      image: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost@sha256:" + "0" * 64,
        ]
    return "\n".join(lines) + "\n"


def replay(plan: Plan) -> float:
    """Register the plan's resources with a bare program under the same mocks; seconds taken."""
    import pulumi

    resources = ordered(plan.resources)

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r in resources:
            opts = pulumi.ResourceOptions(
                parent=made.get(r.parent or ""),
                depends_on=[made[d] for d in r.dependencies if d in made],
                provider=_provider(made, r.provider),
            )
            made[r.urn] = _register(r, opts)

    started = time.perf_counter()
    capture(program, project=plan.project, stack=plan.stack, config={}, region=plan.region or "us-east-1")
    return time.perf_counter() - started


def _provider(made: dict[str, Any], reference: str | None) -> Any:
    if not reference:
        return None
    return made.get(reference.split("::", 1)[0] + "::" + reference.split("::")[-2]) if "::" in reference else None


def _register(r: PlannedResource, opts: Any) -> Any:
    import pulumi

    if r.type.startswith("pulumi:providers:"):
        return pulumi.ProviderResource(r.type.split(":")[-1], r.name, dict(r.inputs), opts)
    if not r.custom:
        return pulumi.ComponentResource(r.type, r.name, None, opts)
    return pulumi.CustomResource(r.type, r.name, dict(r.inputs), opts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,100,300")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best is reported")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'endpoints':>9} {'resources':>9} {'plan s':>8} {'program s':>9} {'bare s':>8} {'ratio':>6} {'res/s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        # Warm-up, not reported: the first plan in a process pays for importing pulumi_aws.
        warm = Path(tmp) / "warm.py"
        warm.write_text(blueprint(1))
        (Path(tmp) / "Pulumi.warm.yaml").write_text(stack_file(1, warm))
        replay(build_plan(warm, "prod", stack_file=Path(tmp) / "Pulumi.warm.yaml", root=ROOT))
        for n in sizes:
            bp = Path(tmp) / f"bench_{n}.py"
            bp.write_text(blueprint(n))
            sf = Path(tmp) / f"Pulumi.bench-{n}.yaml"
            sf.write_text(stack_file(n, bp))
            best_plan = best_program = best_bare = float("inf")
            plan: Plan | None = None
            for _ in range(args.repeat):
                timings = PlanTimings()
                started = time.perf_counter()
                plan = build_plan(bp, "prod", stack_file=sf, root=ROOT, timings=timings)
                best_plan = min(best_plan, time.perf_counter() - started)
                best_program = min(best_program, timings.program)
                best_bare = min(best_bare, replay(plan))
            assert plan is not None
            count = len(plan.resources)
            print(
                f"{n:>9} {count:>9} {best_plan:>8.2f} {best_program:>9.2f} {best_bare:>8.2f} "
                f"{best_plan / best_bare:>6.2f} {count / best_plan:>7.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
