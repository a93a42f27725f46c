"""The example blueprints, planned offline through the real program and components."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app
from tests.conftest import ROOT

runner = CliRunner()
FRAUD = "blueprints/fraud_detection.py"
RECS = "blueprints/recommender_k8s.py"
SEARCH = "blueprints/search_k8s.py"
# The Kubernetes examples' stacks once their models are promoted (stacks/samples/): their stack files
# name no model before a promotion, so their endpoints are planned only with these.
STACKS = {RECS: "recs", SEARCH: "search"}


def _promoted(blueprint: str, env: str, flag: str = "--stack-file") -> tuple[str, ...]:
    """The flag planning `blueprint` in `env` with its sample promoted models; none for the AWS example."""
    if blueprint not in STACKS:
        return ()
    return (flag, f"stacks/samples/Pulumi.{STACKS[blueprint]}-{env}-promoted.yaml")


@pytest.fixture(autouse=True)
def _in_project(monkeypatch: pytest.MonkeyPatch, cached_plans: None) -> None:
    """At the repository root, each example planned once for the module's tests (cached_plans)."""
    monkeypatch.chdir(ROOT)


def _plan_json(*args: str) -> tuple[int, dict, str]:
    result = runner.invoke(app, ["plan", *args, "--json"])
    text = result.stdout
    return result.exit_code, json.loads(text[: text.rindex("}") + 1]), result.output


@pytest.mark.parametrize("blueprint", [FRAUD, RECS, SEARCH])
def test_prod_plan_has_no_errors(blueprint: str) -> None:
    code, plan, output = _plan_json(blueprint, "--env", "prod", *_promoted(blueprint, "prod"))
    assert code == 0, output
    assert plan["environment"] == "prod"
    assert [v for v in plan["violations"] if v["severity"] == "error" and not v["waived"]] == []
    assert any(r["custom"] for r in plan["resources"])


def _opted_out(tmp_path: Path, waiver: str = "") -> Path:
    source = (ROOT / FRAUD).read_text()
    assert 'name="features",' in source
    text = source.replace('name="features",', 'name="features",\n            opt_out=["kms_encryption"],', 1)
    if waiver:
        assert "    waivers=[\n" in text  # the example's own waiver (its public EKS API) stays
        text = text.replace("    waivers=[\n", f"    waivers=[\n        {waiver},\n", 1)
    path = tmp_path / "fraud_opted_out.py"
    path.write_text(text)
    return path


def _rules_broken_in_dev(tmp_path: Path) -> list[str]:
    """The error rules the opted-out resources break, as the planned resources show them."""
    code, plan, output = _plan_json(str(_opted_out(tmp_path)), "--env", "dev", "--stack", "dev")
    assert code == 0, output
    return sorted({v["rule"] for v in plan["violations"] if v["severity"] == "error" and not v["waived"]})


def test_encryption_opt_out_without_waiver_fails_in_prod(tmp_path: Path) -> None:
    broken = _rules_broken_in_dev(tmp_path)
    assert broken == ["MLP-DDB-002", "MLP-S3-001"]
    result = runner.invoke(app, ["plan", str(_opted_out(tmp_path)), "--env", "prod", "--stack", "prod", "--json"])
    assert result.exit_code == 1
    # The blueprint check names exactly the rules the planned resources would break.
    message = (
        "opt-out 'kms_encryption' breaks guardrail MLP-S3-001, MLP-DDB-002 in prod; remove it, or waive each "
        "rule with Waiver(rule=..., reason=..., component='features')"
    )
    assert f"FeatureStore 'features', field 'opt_out': {message}" in result.stderr
    # Under --json the failure is a JSON document on stdout, its problems as validate reports them.
    error = json.loads(result.stdout)["error"]
    assert (error["kind"], error["exit_code"]) == ("invalid", 1)
    assert [(p["component"], p["field"], p["message"]) for p in error["problems"]] == [
        ("FeatureStore 'features'", "opt_out", message)
    ]
    assert "Traceback" not in result.output


def test_encryption_opt_out_with_waivers_passes_and_lists_them(tmp_path: Path) -> None:
    rules = _rules_broken_in_dev(tmp_path)
    waivers = ", ".join(
        f'Waiver(rule="{rule}", reason="offline features are public data", component="features")' for rule in rules
    )
    code, plan, output = _plan_json(str(_opted_out(tmp_path, waivers)), "--env", "prod", "--stack", "prod")
    assert code == 0, output
    added = [w for w in plan["waivers"] if w["component"] == "features"]
    assert sorted(w["rule"] for w in added) == rules
    assert all(w["waived"] >= 1 and w["reason"] == "offline features are public data" for w in added)
    assert {"component": "features", "kind": "FeatureStore", "opt_out": "kms_encryption"} in plan["opt_outs"]


def test_opt_out_is_reported_but_passes_in_dev(tmp_path: Path) -> None:
    code, plan, output = _plan_json(str(_opted_out(tmp_path)), "--env", "dev", "--stack", "dev")
    assert code == 0, output
    assert any(v["severity"] == "error" for v in plan["violations"])


@pytest.mark.parametrize("blueprint", [FRAUD, RECS])
def test_diff_graph_cost_on_the_examples(blueprint: str) -> None:
    prod = _promoted(blueprint, "prod")
    sides = (*_promoted(blueprint, "staging", "--from-stack-file"), *_promoted(blueprint, "prod", "--to-stack-file"))
    diff = runner.invoke(app, ["diff", blueprint, "--from", "staging", "--to", "prod", *sides, "--json"])
    assert diff.exit_code == 0, diff.output
    assert json.loads(diff.stdout)["to"]["environment"] == "prod"
    graph = runner.invoke(app, ["graph", blueprint, "--env", "prod", *prod, "--format", "mermaid"])
    assert graph.exit_code == 0 and graph.stdout.startswith("flowchart LR\n")
    cost = runner.invoke(app, ["cost", blueprint, "--env", "prod", *prod, "--json"])
    assert cost.exit_code == 0, cost.output
    data = json.loads(cost.stdout)
    assert data["total"]["monthly_min"] <= data["total"]["monthly_max"]


def test_fraud_cost_counts_endpoint_and_node_pools() -> None:
    promoted = "stacks/samples/Pulumi.prod-promoted.yaml"  # stacks/Pulumi.prod.yaml serves nothing yet
    data = json.loads(runner.invoke(app, ["cost", FRAUD, "--env", "prod", "--stack-file", promoted, "--json"]).stdout)
    items = [i for c in data["components"] for i in c["items"]]
    whats = " | ".join(i["what"] for i in items)
    assert "SageMaker ml.m5.xlarge x 2..8" in whats
    assert "EC2 g5.2xlarge x 0..16 nodes" in whats
    assert "EKS control plane" in whats


def _runtime_env(resource: dict) -> list[dict]:
    job = resource["inputs"]["spec"]["template"]["spec"]["replicatedJobs"][0]
    env: list[dict] = job["template"]["spec"]["template"]["spec"]["containers"][0]["env"]
    return env


@pytest.mark.parametrize(
    ("blueprint", "names"),
    [
        (FRAUD, ["MLFLOW_TRACKING_URI", "WANDB_BASE_URL", "WANDB_ENTITY", "WANDB_PROJECT", "WANDB_API_KEY"]),
        (RECS, ["MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_USERNAME"]),
    ],
)
def test_the_plan_shows_the_tracking_wiring_of_the_training_runtimes(blueprint: str, names: list[str]) -> None:
    """Kubeflow Trainer: a TrainingRuntime's pod template is the base of every TrainJob's pods, so the
    tracking variables set there reach every job on it (secrets as secretKeyRef, never a value)."""
    code, plan, output = _plan_json(blueprint, "--env", "prod")
    assert code == 0, output
    wired = plan["outputs"]["train_tracking_env"]
    assert [e["name"] for e in wired] == names
    assert all("value" not in e for e in wired if e["name"] in {"WANDB_API_KEY", "MLFLOW_TRACKING_PASSWORD"})
    runtimes = [r for r in plan["resources"] if r["type"].endswith(":TrainingRuntime")]
    assert sorted(r["inputs"]["metadata"]["name"] for r in runtimes) == ["torch-distributed", "torch-single-node"]
    for r in runtimes:
        assert _runtime_env(r) == [{"name": "HOME", "value": "/tmp"}, *wired]
