"""The broken-blueprint corpus: each case exits 1 with exactly its expected messages.

`cases/<name>.py` is a blueprint broken in one way (its docstring says which); `cases/<name>.expected`
is exactly what `mlplatform validate cases/<name>.py` prints on stderr, paths relative to the
repository root. A case with no `.py` (file_not_found) checks a path that does not exist.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app
from tests.conftest import ROOT, opt_out_lines, stack_lines

CASES = ROOT / "tests" / "corpus" / "cases"
EXPECTED = sorted(CASES.glob("*.expected"))
MLPLATFORM = Path(sys.executable).parent / "mlplatform"

# Run through a real process as well: the console script's own error handling and streams.
SUBPROCESS_CASES = ["syntax_error", "exception_raised", "two_platforms", "file_not_found", "several_problems"]


def _relative(name: str) -> str:
    return f"tests/corpus/cases/{name}.py"


def _expected(name: str) -> list[str]:
    return (CASES / f"{name}.expected").read_text(encoding="utf-8").splitlines()


def test_corpus_covers_at_least_35_failure_kinds() -> None:
    assert len(EXPECTED) >= 35
    orphans = [p.name for p in CASES.glob("*.py") if not p.with_suffix(".expected").exists()]
    assert orphans == []


@pytest.mark.parametrize("name", [p.stem for p in EXPECTED])
def test_case_reports_exactly_its_problems(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["validate", _relative(name)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == _expected(name)
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", [p.stem for p in EXPECTED])
def test_every_message_names_file_line_and_component(name: str) -> None:
    *messages, summary = _expected(name)
    assert summary.startswith(f"{_relative(name)}: invalid, ")
    assert messages
    for line in messages:
        assert line.startswith(f"{_relative(name)}:")
        where, _, rest = line.partition(": ")
        if name not in ("file_not_found", "zero_platforms"):
            assert where.rsplit(":", 1)[1].isdigit(), line  # a line number
        assert rest.split("] ")[-1].startswith(
            (
                "Platform",
                "FeatureStore",
                "TrainingCluster",
                "ModelEndpoint",
                "MonitoringStack",
                "ExperimentTracker",
                "TrainingPipeline",
                "component #",
            )
        ), line


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_case_through_the_console_script(name: str) -> None:
    proc = subprocess.run(
        [str(MLPLATFORM), "validate", _relative(name)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == _expected(name)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr + proc.stdout


def test_several_problems_are_all_reported_at_once() -> None:
    lines = _expected("several_problems")
    assert lines[-1] == f"{_relative('several_problems')}: invalid, 16 errors"
    fields = {line.split(", field ")[1].split(":")[0] for line in lines[:-1]}
    assert fields == {
        "'owner'",
        "'online_store'",
        "'api_access'",
        "'node_pools[0].gpu'",
        "'node_pools[0].min_nodes'",
        "'min_instances'",
        "'deployment'",
        "'instance_type'",
        "'notify[0]'",
        "'endpoints[0]'",
        "'endpoints[1]'",
    }


def test_several_files_are_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """One invalid file does not stop the others from being checked; the exit code is 1."""
    monkeypatch.chdir(ROOT)
    names = ["redis_on_aws", "below_minimum"]
    result = CliRunner().invoke(app, ["validate", *map(_relative, names), "blueprints/fraud_detection.py"])
    assert result.exit_code == 1
    fraud = "blueprints/fraud_detection.py"
    # The example's reported opt-out (its EKS API is public for the runner's CIDRs) is a warning, not a failure.
    assert result.stderr.splitlines() == _expected("redis_on_aws") + _expected("below_minimum")
    valid = f"{fraud}: valid for dev, staging, prod"
    assert result.stdout.splitlines() == [*opt_out_lines(fraud), valid, *stack_lines(fraud)]


def test_json_output_carries_the_same_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["validate", _relative("node_pool_min_above_max"), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    [blueprint] = report["blueprints"]
    assert blueprint["errors"] == [
        {
            "file": _relative("node_pool_min_above_max"),
            "line": 11,
            "component": "TrainingCluster 'train'",
            "field": "node_pools[0].min_nodes",
            "message": "min_nodes (3) is greater than max_nodes (2); raise max_nodes to at least 3 or lower min_nodes",
            "env": "dev",
            "severity": "error",
        }
    ]
