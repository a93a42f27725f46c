"""`mlplatform --help` must not import pulumi or its providers: they take seconds to import.
Checked in a fresh interpreter through sys.modules; not a timing test."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "mlflow")  # mlflow: only for register --from-mlflow

PROBE = """
import json, sys
from typer.testing import CliRunner
from mlplatform.cli.app import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"code": result.exit_code, "modules": sorted(sys.modules), "output": result.output}))
"""


def _modules_after(*args: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report: dict[str, object] = json.loads(proc.stdout)
    return report


def test_help_imports_no_pulumi() -> None:
    report = _modules_after("--help")
    assert report["code"] == 0
    assert "validate" in str(report["output"])
    assert [m for m in report["modules"] if m.split(".")[0] in HEAVY] == []  # type: ignore[attr-defined]


def test_validate_imports_no_pulumi() -> None:
    report = _modules_after("validate", "blueprints/fraud_detection.py")
    assert report["code"] == 0, report["output"]
    assert [m for m in report["modules"] if m.split(".")[0] in HEAVY] == []  # type: ignore[attr-defined]


def test_the_probe_would_see_pulumi_if_it_were_imported() -> None:
    """Guard against a probe that cannot fail: importing pulumi does show up."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, pulumi; print('pulumi' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.strip() == "True"
