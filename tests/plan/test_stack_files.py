"""Stack files as `plan` and the Pulumi program read them: strict `mlplatform:` keys, clear
messages for files that are not stack settings, only the files needed are read, and a blueprint is
never paired with another blueprint's stack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pulumi
import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app
from mlplatform.plan.engine import run_program
from tests.conftest import ROOT, known_keys_note

FRAUD = "blueprints/fraud_detection.py"
KNOWN = known_keys_note()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's files, so the repository's stack files stay as they are."""
    dest = tmp_path / "project"
    dest.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", dest / "Pulumi.yaml")
    for folder in ("stacks", "blueprints"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(dest)
    return dest


def _plan(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["plan", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def _promoted(repo: Path) -> Path:
    """stacks/Pulumi.prod.yaml as it is once a version is promoted (the committed one names none)."""
    prod = repo / "stacks" / "Pulumi.prod.yaml"
    shutil.copy(repo / "stacks" / "samples" / "Pulumi.prod-promoted.yaml", prod)
    return prod


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_typo_in_a_key_fails_the_plan_instead_of_dropping_the_endpoint(repo: Path) -> None:
    _edit(_promoted(repo), "mlplatform:models:", "mlplatform:modles:")
    assert _plan(FRAUD, "--env", "prod") == (
        1,
        "",
        "error: stacks/Pulumi.prod.yaml: unknown key 'mlplatform:modles'; did you mean 'mlplatform:models'? "
        f"{KNOWN}\n",
    )


def test_a_key_without_namespace_is_in_the_mlplatform_namespace(repo: Path) -> None:
    _edit(_promoted(repo), "mlplatform:models:", "modles:")
    code, _, err = _plan(FRAUD, "--env", "prod")
    assert code == 1
    assert err.startswith("error: stacks/Pulumi.prod.yaml: unknown key 'mlplatform:modles'; did you mean")


def test_every_problem_of_a_stack_file_at_once(repo: Path) -> None:
    prod = repo / "stacks" / "Pulumi.prod.yaml"
    _edit(prod, "config:", "confg: {}\nconfig:\n  mlplatform:kubecontext: x\n  mlplatform:colour: blue")
    assert _plan(FRAUD, "--env", "prod") == (
        1,
        "",
        "error: stacks/Pulumi.prod.yaml: 3 problems:\n"
        "  - unknown top-level key 'confg'; did you mean 'config'? (a stack file has config, secretsprovider, "
        "encryptedkey, encryptionsalt, environment)\n"
        "  - unknown key 'mlplatform:colour'\n"
        "  - unknown key 'mlplatform:kubecontext'; did you mean 'mlplatform:kubeContext'?\n"
        f"  {KNOWN}\n",
    )


def test_an_unknown_field_of_a_promoted_model(repo: Path) -> None:
    _edit(_promoted(repo), 'version: "2"', 'verison: "2"')
    assert _plan(FRAUD, "--env", "prod") == (
        1,
        "",
        "error: stacks/Pulumi.prod.yaml: mlplatform:models.fraud-xgb has unknown field 'verison'; did you mean "
        "'version'? (each model has version, uri, sha256, image)\n",
    )


EMPTY = "the stack file is empty; it needs a 'config:' mapping that sets at least mlplatform:blueprint"
NOT_A_MAPPING = "the top level must be a mapping with a 'config:' key (Pulumi stack settings); got"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", EMPTY),
        ("# only a comment\n", EMPTY),
        ("- aws:region: us-east-1\n", f"{NOT_A_MAPPING} a list"),
        ("just text\n", f"{NOT_A_MAPPING} a string"),
        ("config: [1, 2]\n", "'config' must be a mapping of keys to values; got a list"),
        ("config:\n  mlplatform:blueprint: 3\n", "mlplatform:blueprint must be a string; got a number 3"),
    ],
    ids=["empty", "comment-only", "list", "scalar", "config-list", "blueprint-number"],
)
def test_a_file_that_is_not_stack_settings(repo: Path, text: str, message: str) -> None:
    (repo / "stacks" / "Pulumi.prod.yaml").write_text(text, encoding="utf-8")
    assert _plan(FRAUD, "--env", "prod") == (1, "", f"error: stacks/Pulumi.prod.yaml: {message}\n")


def test_a_broken_file_of_another_stack_does_not_block_this_one(repo: Path) -> None:
    (repo / "stacks" / "Pulumi.staging.yaml").write_text("config:\n  aws:region: [unclosed\n", encoding="utf-8")
    code, out, err = _plan(FRAUD, "--env", "dev")
    assert (code, err) == (0, "")
    assert "Plan: " in out and "for stack 'dev' (environment 'dev'" in out
    # The broken file is the one needed: its error is the answer.
    code, out, err = _plan(FRAUD, "--env", "staging")
    assert (code, out) == (1, "")
    assert err.startswith("error: stacks/Pulumi.staging.yaml: not valid YAML: ")


def test_a_broken_file_is_named_when_no_other_stack_fits(repo: Path) -> None:
    (repo / "stacks" / "Pulumi.recs-dev.yaml").write_text("", encoding="utf-8")
    code, out, err = _plan("blueprints/recommender_k8s.py", "--env", "dev")
    assert (code, out) == (1, "")
    assert err == (
        "error: no stack file in stacks/ deploys blueprints/recommender_k8s.py as environment 'dev'; "
        "stacks/Pulumi.dev.yaml deploys blueprints/fraud_detection.py; could not read stacks/Pulumi.recs-dev.yaml "
        "(the stack file is empty; it needs a 'config:' mapping that sets at least mlplatform:blueprint). Add a "
        "stack file stacks/Pulumi.NAME.yaml with mlplatform:blueprint: blueprints/recommender_k8s.py and "
        "mlplatform:environment: dev, or pass --stack NAME or --stack-file FILE to plan it with another stack's "
        "config\n"
    )


def test_a_stack_that_names_no_blueprint_is_refused_as_pulumi_would(repo: Path) -> None:
    _edit(repo / "stacks" / "Pulumi.prod.yaml", "  mlplatform:blueprint: blueprints/fraud_detection.py\n", "")
    code, out, err = _plan(FRAUD, "--stack", "prod")
    assert (code, out) == (1, "")
    assert err == (
        "error: stack 'prod' (stacks/Pulumi.prod.yaml): sets no mlplatform:blueprint; Pulumi.yaml "
        "declares it without a default, so `pulumi up` would refuse this stack (\"missing configuration value\"). "
        "Add it to the stack file\n"
    )


def test_the_program_itself_rejects_an_unknown_key() -> None:
    """What `pulumi up` runs: the config Pulumi hands over, checked by the program."""
    config = {
        "mlplatform:blueprint": FRAUD,
        "mlplatform:modles": '{"fraud-xgb": {}}',
        "aws:region": "us-east-1",
    }
    with pytest.raises(pulumi.RunError) as exc:
        run_program(ROOT / "stacks" / "__main__.py", project="mlplatform", stack="prod", config=config)
    assert str(exc.value) == (
        f"stack 'prod': unknown key 'mlplatform:modles'; did you mean 'mlplatform:models'? {KNOWN}"
    )


def test_the_program_reads_keys_from_pulumi_config_as_pulumi_up_passes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python language host passes config as the PULUMI_CONFIG environment variable."""
    from mlplatform.program import config_keys

    monkeypatch.setenv("PULUMI_CONFIG", '{"mlplatform:blueprint": "x", "mlplatform:modles": "{}"}')
    assert {"mlplatform:blueprint", "mlplatform:modles"} <= set(config_keys())
