"""What a new user meets, walked through the installed console script in a fresh copy of the
project, as the README tells it: the quick start's commands, bad input, a fix, and the same
commands re-run giving the same right answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlplatform import stack_config
from tests.conftest import ROOT, known_keys_note, opt_out_lines, stack_lines

MLPLATFORM = Path(sys.executable).parent / "mlplatform"
FRAUD = "blueprints/fraud_detection.py"
RECS = "blueprints/recommender_k8s.py"
SEARCH = "blueprints/search_k8s.py"


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files a clone has (git ls-files) that the walk-through uses."""
    dest = tmp_path_factory.mktemp("clone")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in tracked.splitlines():
        if name.split("/")[0] in ("Pulumi.yaml", "README.md", "blueprints", "stacks"):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, dest / name)
    return dest


def _mlplatform(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(MLPLATFORM), *args], cwd=clone, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def test_the_walk_through(clone: Path) -> None:
    # The README: "run the CLI yourself as .venv/bin/mlplatform ... mlplatform -h, mlplatform --version"
    version = _mlplatform(clone, "--version")
    assert (version.returncode, version.stdout.startswith("mlplatform "), version.stderr) == (0, True, "")
    helped = _mlplatform(clone, "-h")
    assert helped.returncode == 0
    assert all(f" {command} " in helped.stdout for command in ("validate", "plan", "diff", "graph", "cost"))

    # scripts/example, step 1: the blueprints and the stack files that deploy them.
    valid = [
        *opt_out_lines(FRAUD),
        f"{FRAUD}: valid for dev, staging, prod",
        f"{RECS}: valid for dev, staging, prod",
        f"{SEARCH}: valid for dev, prod",
    ]
    stacks = sorted(stack_lines(FRAUD) + stack_lines(RECS) + stack_lines(SEARCH))
    checked = _mlplatform(clone, "validate", FRAUD, RECS, SEARCH, "--all-envs")
    assert (checked.returncode, checked.stdout.splitlines(), checked.stderr) == (0, valid + stacks, "")
    assert _mlplatform(clone, "validate", "blueprints").stdout == checked.stdout  # a folder is its blueprints

    # scripts/example, step 2: the prod plan once a version is promoted (stacks/samples/), with the
    # model version that stack config promotes.
    sample = ("--stack-file", "stacks/samples/Pulumi.prod-promoted.yaml")
    first = _mlplatform(clone, "plan", FRAUD, "--env", "prod", *sample)
    assert (first.returncode, first.stderr) == (0, "")
    promoted = stack_config.read(clone / "stacks" / "samples" / "Pulumi.prod-promoted.yaml").models["fraud-xgb"]
    lines = first.stdout.splitlines()
    assert f"  scorer (sagemaker): fraud-xgb version {promoted.version}, {promoted.uri}" in lines
    assert lines[-1].startswith("Plan: ") and lines[-1].endswith("guardrails: 0 errors, 0 warnings, 1 waived")

    # A typo in a stack file: an error naming the file, the key and the fix, not a plan without the endpoint.
    prod = clone / "stacks" / "Pulumi.prod.yaml"
    original = prod.read_text()
    prod.write_text(original + "  mlplatform:modles: {}\n")
    typo = _mlplatform(clone, "plan", FRAUD, "--env", "prod")
    assert (typo.returncode, typo.stdout) == (1, "")
    assert typo.stderr == (
        "error: stacks/Pulumi.prod.yaml: unknown key 'mlplatform:modles'; did you mean 'mlplatform:models'? "
        f"{known_keys_note()}\n"
    )
    assert _mlplatform(clone, "validate", FRAUD).returncode == 1

    # A broken file of another stack does not block this one.
    staging = clone / "stacks" / "Pulumi.staging.yaml"
    staging_text = staging.read_text()
    staging.write_text("config: [unclosed\n")
    dev = _mlplatform(clone, "plan", FRAUD, "--env", "dev")
    assert dev.returncode == 0 and "Pulumi.staging.yaml" not in dev.stderr
    staging.write_text(staging_text)

    # Fixed, and re-run: the same right answer as the first time.
    prod.write_text(original)
    again = _mlplatform(clone, "plan", FRAUD, "--env", "prod", *sample)
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")

    # A script asking for JSON gets JSON, also for a usage error.
    usage = _mlplatform(clone, "plan", "--json")
    assert usage.returncode == 2
    assert json.loads(usage.stdout) == {
        "error": {"kind": "usage", "exit_code": 2, "message": "Missing argument 'BLUEPRINT'."}
    }
