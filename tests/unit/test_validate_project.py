"""`mlplatform validate` checks the project's stack files with the blueprints they deploy, and a
folder stands for its blueprints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app
from tests.conftest import ROOT, known_keys_note, opt_out_lines, stack_lines

FRAUD = "blueprints/fraud_detection.py"
RECS = "blueprints/recommender_k8s.py"
SEARCH = "blueprints/search_k8s.py"
KNOWN = known_keys_note()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "project"
    dest.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", dest / "Pulumi.yaml")
    for folder in ("stacks", "blueprints"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(dest)
    return dest


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["validate", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def _promoted(repo: Path, env: str) -> Path:
    """stacks/Pulumi.<env>.yaml once a version is promoted (the committed files name none yet)."""
    path = repo / "stacks" / f"Pulumi.{env}.yaml"
    shutil.copy(repo / "stacks" / "samples" / f"Pulumi.{env}-promoted.yaml", path)
    return path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_folder_is_its_blueprints(repo: Path) -> None:
    (repo / "blueprints" / "_shared.py").write_text("TEAM = 'risk-ml'\n")  # a helper, not a blueprint
    code, out, err = _run("blueprints")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        *opt_out_lines(FRAUD),
        f"{FRAUD}: valid for dev, staging, prod",
        f"{RECS}: valid for dev, staging, prod",
        f"{SEARCH}: valid for dev, prod",
        *sorted(stack_lines(FRAUD) + stack_lines(RECS) + stack_lines(SEARCH)),
    ]
    assert _run("blueprints/")[1] == out


def test_an_empty_folder_is_an_error(repo: Path) -> None:
    (repo / "empty").mkdir()
    assert _run("empty") == (1, "", "error: empty: no blueprints (*.py files) in this folder\n")


def test_a_typo_in_a_stack_file_fails_validate(repo: Path) -> None:
    _edit(_promoted(repo, "prod"), "mlplatform:models:", "mlplatform:modles:")
    code, out, err = _run(FRAUD)
    assert code == 1
    assert out.splitlines() == [
        *opt_out_lines(FRAUD),
        f"{FRAUD}: valid for dev, staging, prod",
        *[line for line in stack_lines(FRAUD) if "Pulumi.prod.yaml" not in line],
    ]
    assert err.splitlines() == [
        f"stacks/Pulumi.prod.yaml: unknown key 'mlplatform:modles'; did you mean 'mlplatform:models'? {KNOWN}",
        "stacks/Pulumi.prod.yaml: invalid, 1 error",
    ]


def test_stack_files_of_another_blueprint_are_left_alone(repo: Path) -> None:
    _edit(repo / "stacks" / "Pulumi.recs-prod.yaml", "mlplatform:environment: prod", "mlplatform:environment: qa")
    assert _run(FRAUD)[0] == 0
    code, _, err = _run(RECS)
    assert code == 1
    assert err.splitlines() == [
        f"stacks/Pulumi.recs-prod.yaml: environment 'qa' is not one of {RECS}'s environments (dev, staging, prod); "
        "set mlplatform:environment",
        "stacks/Pulumi.recs-prod.yaml: invalid, 1 error",
    ]


def test_a_file_that_cannot_be_read_is_reported_whatever_it_deploys(repo: Path) -> None:
    (repo / "stacks" / "Pulumi.qa.yaml").write_text("- not settings\n")
    code, _, err = _run(FRAUD)
    assert code == 1
    assert err.splitlines() == [
        "stacks/Pulumi.qa.yaml: the top level must be a mapping with a 'config:' key (Pulumi stack settings); "
        "got a list",
        "stacks/Pulumi.qa.yaml: invalid, 1 error",
    ]


def test_warnings_for_a_model_no_endpoint_serves_and_a_region_mismatch(repo: Path) -> None:
    dev = _promoted(repo, "dev")
    _edit(dev, "aws:region: us-east-1", "aws:region: eu-west-1")
    _edit(dev, "    fraud-xgb:\n", "    fraud-old:\n      version: '1'\n      uri: s3://b/k\n      sha256: ab\n"
          "      image: i:1\n    fraud-xgb:\n")
    code, out, err = _run(FRAUD, "--env", "dev")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        *opt_out_lines(FRAUD),
        f"{FRAUD}: valid for dev",
        "stacks/Pulumi.dev.yaml: warning: mlplatform:models promotes 'fraud-old', which no ModelEndpoint of "
        f"{FRAUD} serves",
        "stacks/Pulumi.dev.yaml: warning: aws:region is eu-west-1 but the blueprint's region is us-east-1; "
        "resources deploy to eu-west-1",
        f"stacks/Pulumi.dev.yaml: valid, stack 'dev' deploys {FRAUD} as 'dev'",
    ]


def test_json_carries_the_stack_files(repo: Path) -> None:
    _edit(_promoted(repo, "prod"), "mlplatform:models:", "mlplatform:modles:")
    code, out, _ = _run(FRAUD, "--env", "prod", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["valid"] is False
    assert data["blueprints"][0]["valid"] is True
    assert data["stack_files"] == [
        {
            "file": "stacks/Pulumi.prod.yaml",
            "stack": None,
            "environment": None,
            "blueprint": None,
            "valid": False,
            "errors": [f"unknown key 'mlplatform:modles'; did you mean 'mlplatform:models'? {KNOWN}"],
            "warnings": [],
        }
    ]


def test_outside_a_project_only_the_blueprint_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blueprint = tmp_path / "bp.py"
    blueprint.write_text("from mlplatform import Platform\nplatform = Platform(name='demo', team='t')\n")
    assert _run("bp.py") == (0, "bp.py: valid for dev, staging, prod\n", "")


def test_project_dir_names_the_project_from_elsewhere(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--project-dir` as the promotion commands spell it: validate and plan from another folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    blueprint = str(repo / FRAUD)
    code, out, err = _run(blueprint, "--env", "dev", "--project-dir", str(repo))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        *opt_out_lines(FRAUD, blueprint),
        f"{blueprint}: valid for dev",
        f"{repo / 'stacks' / 'Pulumi.dev.yaml'}: valid, stack 'dev' deploys {FRAUD} as 'dev'",
    ]
    result = CliRunner().invoke(app, ["plan", blueprint, "--env", "dev", "--project-dir", str(repo)])
    assert result.exit_code == 0, result.output
    assert "for stack 'dev' (environment 'dev', us-east-1)" in result.stdout.splitlines()[-1]
    result = CliRunner().invoke(app, ["plan", blueprint, "--env", "dev", "--project-dir", str(elsewhere)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: no mlplatform project found: no Pulumi.yaml in {elsewhere} or any folder above; run the command "
        "inside the project (the folder holding Pulumi.yaml and stacks/), or pass --project-dir DIR\n"
    )
