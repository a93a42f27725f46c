"""`mlplatform validate` and `mlplatform schema`: exit codes, exact output, JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from typer.testing import CliRunner

from mlplatform.blueprint import load
from mlplatform.cli.app import app
from tests.conftest import BLUEPRINTS, ROOT, opt_out_lines, stack_lines

FRAUD = "blueprints/fraud_detection.py"
RECS = "blueprints/recommender_k8s.py"
EXAMPLES = sorted(BLUEPRINTS.glob("*.py"))
# The fraud example's EKS API is public for the deploy runner's CIDRs: a named, waived, reported opt-out.
FRAUD_WARNINGS = [
    {
        "file": FRAUD,
        "line": int(line.split(":")[1]),
        "component": "TrainingCluster 'train'",
        "field": line.split("field '")[1].split("'")[0],
        "message": line.split("': ", 1)[1],
        "env": None,
        "severity": "warning",
    }
    for line in opt_out_lines(FRAUD)
]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def _lines(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def test_validate_every_environment_by_default() -> None:
    # The project's stack files that deploy the blueprint are checked with it.
    assert stack_lines(FRAUD) == [
        f"stacks/Pulumi.{env}.yaml: valid, stack '{env}' deploys {FRAUD} as '{env}'"
        for env in ("dev", "prod", "staging")
    ]
    assert _run("validate", FRAUD) == (
        0,
        _lines(*opt_out_lines(FRAUD), f"{FRAUD}: valid for dev, staging, prod", *stack_lines(FRAUD)),
        "",
    )


def test_validate_one_environment() -> None:
    assert _run("validate", FRAUD, "--env", "prod") == (
        0,
        _lines(*opt_out_lines(FRAUD), f"{FRAUD}: valid for prod", *stack_lines(FRAUD, ("prod",))),
        "",
    )
    recs_dev = _lines(f"{RECS}: valid for dev", *stack_lines(RECS, ("dev",)))
    assert _run("validate", RECS, "-e", "dev") == (0, recs_dev, "")


def test_env_and_all_envs_together_is_a_usage_error() -> None:
    code, out, err = _run("validate", FRAUD, "--env", "prod", "--all-envs")
    assert code == 2
    assert out == ""
    assert "give --env or --all-envs, not both" in err


def test_no_blueprint_is_a_usage_error() -> None:
    code, _, err = _run("validate")
    assert code == 2
    assert "Missing argument" in err


def test_environment_the_platform_does_not_have() -> None:
    # The line of the example's Platform(...) call, wherever the example's imports end.
    line = Path(FRAUD).read_text().splitlines().index("platform = Platform(") + 1
    assert _run("validate", FRAUD, "--env", "qa") == (
        1,
        "",
        f"{FRAUD}:{line}: Platform 'fraud', field 'environments': environment 'qa' is not one of dev, staging, prod\n"
        f"{FRAUD}: invalid, 1 error\n",
    )


def test_env_selects_environment_specific_rules(tmp_path: Path) -> None:
    blueprint = tmp_path / "single.py"
    blueprint.write_text(
        "from mlplatform import ModelEndpoint, Platform\n"
        "platform = Platform(name='fraud', team='risk-ml', components=[\n"
        "    ModelEndpoint(name='scorer', model='fraud-xgb', max_instances=2),\n"
        "])\n"
    )
    assert _run("validate", str(blueprint), "--env", "dev") == (0, f"{blueprint}: valid for dev\n", "")
    code, out, err = _run("validate", str(blueprint), "--env", "prod")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{blueprint}:3: ModelEndpoint 'scorer', field 'min_instances': prod endpoints need at least 2 instances to "
        "survive an instance or zone failure; got 1. Use per_env(prod=2, ...)",
        f"{blueprint}: invalid, 1 error",
    ]


def test_json_shape_valid() -> None:
    code, out, err = _run("validate", FRAUD, RECS, "--json", "--env", "staging")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "valid": True,
        "blueprints": [
            {"file": f, "valid": True, "environments": ["staging"], "errors": [], "warnings": warnings}
            for f, warnings in ((FRAUD, FRAUD_WARNINGS), (RECS, []))
        ],
        "stack_files": [
            {
                "file": f"stacks/Pulumi.{stack}.yaml",
                "stack": stack,
                "environment": "staging",
                "blueprint": blueprint,
                "valid": True,
                "errors": [],
                "warnings": [],
            }
            for stack, blueprint in (("recs-staging", RECS), ("staging", FRAUD))
        ],
    }


def test_json_shape_invalid_and_warnings(tmp_path: Path) -> None:
    blueprint = tmp_path / "bp.py"
    blueprint.write_text(
        "from mlplatform import FeatureStore, Platform\n"
        "platform = Platform(name='fraud', team='risk-ml', components=[\n"
        "    FeatureStore(name='features', opt_out=['versioning']),\n"
        "    FeatureStore(name='store', online_store='redis'),\n"
        "])\n"
    )
    code, out, err = _run("validate", str(blueprint), "--json")
    assert (code, err) == (1, "")
    report = json.loads(out)
    assert report["valid"] is False
    [entry] = report["blueprints"]
    assert entry["file"] == str(blueprint)
    assert entry["valid"] is False
    assert entry["environments"] == []
    common = {"file": str(blueprint), "env": None}
    opt_out = {"file": str(blueprint), "line": 3, "component": "FeatureStore 'features'", "field": "opt_out"}
    assert entry["errors"] == [
        {
            **opt_out,
            "env": "prod",
            "message": "opt-out 'versioning' breaks guardrail MLP-S3-002 in prod; remove it, or waive each rule "
            "with Waiver(rule=..., reason=..., component='features')",
            "severity": "error",
        },
        {
            **common,
            "line": 4,
            "component": "FeatureStore 'store'",
            "field": "online_store",
            "message": "online_store='redis' runs on Kubernetes; set target='kubernetes'",
            "severity": "error",
        },
    ]
    assert entry["warnings"] == [
        {**opt_out, "env": env, "message": "secure default 'versioning' is turned off", "severity": "warning"}
        for env in ("dev", "staging")
    ]


def test_json_for_a_file_that_does_not_load() -> None:
    code, out, _ = _run("validate", "nowhere.py", "--json")
    assert code == 1
    assert json.loads(out)["blueprints"] == [
        {
            "file": "nowhere.py",
            "valid": False,
            "environments": [],
            "errors": [
                {
                    "file": "nowhere.py",
                    "line": 0,
                    "component": "Platform",
                    "field": "",
                    "message": "blueprint file not found",
                    "env": None,
                    "severity": "error",
                }
            ],
            "warnings": [],
        }
    ]


def test_warnings_print_on_stdout_and_keep_exit_0(tmp_path: Path) -> None:
    blueprint = tmp_path / "bp.py"
    blueprint.write_text(
        "from mlplatform import FeatureStore, Platform\n"
        "platform = Platform(name='fraud', team='risk-ml', components=[\n"
        "    FeatureStore(name='features', opt_out=['access_logging']),\n"
        "])\n"
    )
    assert _run("validate", str(blueprint), "--env", "dev") == (
        0,
        f"{blueprint}:3: warning: FeatureStore 'features', field 'opt_out': secure default 'access_logging' is "
        f"turned off\n{blueprint}: valid for dev\n",
        "",
    )


def _schema() -> dict[str, Any]:
    code, out, err = _run("schema")
    assert (code, err) == (0, "")
    schema: dict[str, Any] = json.loads(out)
    return schema


def test_schema_is_a_valid_json_schema() -> None:
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "team"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_resolved_specs_match_the_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    blueprint = load(path)
    result = blueprint.validate()
    assert list(result.specs) == blueprint.environments and "prod" in result.specs
    for spec in result.specs.values():
        errors = [e.message for e in validator.iter_errors(spec.model_dump(mode="json"))]
        assert errors == []


def test_schema_rejects_what_validation_rejects() -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    spec = load(BLUEPRINTS / "fraud_detection.py").resolve("prod").model_dump(mode="json")
    assert validator.is_valid(spec)
    unknown_field = {**spec, "colour": "blue"}
    no_instances = json.loads(json.dumps(spec))
    no_instances["components"][2]["min_instances"] = 0
    bad_strategy = json.loads(json.dumps(spec))
    bad_strategy["components"][2]["deployment"] = {"strategy": "blue_green"}
    for broken in (unknown_field, no_instances, bad_strategy):
        assert not validator.is_valid(broken)


def test_schema_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    # The data goes to the file; the message about it to stderr.
    assert _run("schema", "--output", str(target)) == (0, "", f"wrote {target}\n")
    assert json.loads(target.read_text()) == _schema()
    assert _run("schema", "--output", str(target), "--json") == (0, f'{{\n  "wrote": "{target}"\n}}\n', "")
    assert _run("schema", "--json")[1] == _run("schema")[1]


def test_schema_to_a_file_that_cannot_be_written(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "schema.json"
    code, out, err = _run("schema", "--output", str(target))
    assert (code, out) == (1, "")
    assert err == f"error: {target}: cannot write: No such file or directory\n"
    code, out, _ = _run("schema", "--output", str(target), "--json")
    assert code == 1
    assert json.loads(out) == {
        "error": {
            "kind": "invalid",
            "exit_code": 1,
            "message": f"{target}: cannot write: No such file or directory",
        }
    }
