"""Shared fixtures. Paths are absolute so tests pass from any working directory."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

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


def stack_lines(blueprint: str, envs: tuple[str, ...] = ("dev", "staging", "prod")) -> list[str]:
    """What `mlplatform validate` prints (from the repository root) for the project's valid stack
    files that deploy `blueprint` in `envs`."""
    from mlplatform import stack_config

    lines = []
    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        config = stack_config.read(path)
        if config.blueprint == blueprint and config.environment in envs:
            lines.append(
                f"stacks/{path.name}: valid, stack '{config.stack}' deploys {blueprint} as '{config.environment}'"
            )
    return lines


def opt_out_lines(blueprint: str, shown: str | None = None) -> list[str]:
    """The warnings `mlplatform validate` prints for an example's reported opt-outs: the fraud
    example's EKS API is public for the deploy runner's CIDRs (waived MLP-EKS-001), given as a
    documentation range to replace."""
    if not blueprint.endswith("fraud_detection.py"):
        return []
    source = (ROOT / "blueprints" / "fraud_detection.py").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(source, 1) if text.strip().startswith("TrainingCluster("))
    cidrs = next(i for i, text in enumerate(source, 1) if "api_access=ApiAccess(" in text)
    return [
        f"{shown or blueprint}:{line}: warning: TrainingCluster 'train', field 'opt_out': secure default "
        "'private_endpoint' is turned off (waived: MLP-EKS-001)",
        f"{shown or blueprint}:{cidrs}: warning: TrainingCluster 'train', field 'api_access.public_cidrs[0]': "
        "'203.0.113.0/24' is not a public internet range (documentation, private or other reserved addresses), "
        "which EKS refuses for the public endpoint: replace it with the deploy runner's egress addresses before "
        "`pulumi up`",
    ]


def known_keys_note() -> str:
    """The list of known mlplatform stack keys as messages show it (other work adds keys)."""
    from mlplatform.stack_config import KNOWN_KEYS

    names = sorted((k.partition(":")[2] for k in KNOWN_KEYS if k.startswith("mlplatform:")), key=str.lower)
    return f"(mlplatform keys: {', '.join(names)})"


_PLANS: dict[tuple[str, ...], Any] = {}


@pytest.fixture
def cached_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan each (folder, blueprint, stack) once per test session: the tests that read the example
    plans through the CLI (text, graph, cost, diff) then cost one plan each instead of one per
    command. Only for unchanged project files: the key is the working folder and the arguments."""
    from mlplatform.plan import build

    real = build.build_plan

    def cached(blueprint: Any, env: Any = None, **options: Any) -> Any:
        key = (str(Path.cwd()), str(blueprint), str(env), *(f"{k}={v}" for k, v in sorted(options.items())))
        if key not in _PLANS:
            _PLANS[key] = real(blueprint, env, **options)
        return copy.deepcopy(_PLANS[key])

    monkeypatch.setattr(build, "build_plan", cached)
