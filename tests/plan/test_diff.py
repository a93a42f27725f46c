"""`mlplatform diff` reports only changes that are there: the environment is hidden only where the
platform put it, map keys like values, and JSON documents are compared inside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app
from mlplatform.plan.diff import diff_plans
from mlplatform.plan.model import Plan, PlannedResource
from tests.conftest import ROOT

runner = CliRunner()
FRAUD = "blueprints/fraud_detection.py"
RECS = "blueprints/recommender_k8s.py"
# Each side as its stack file is, but the recommender once its models are promoted (stacks/samples/;
# stacks/Pulumi.recs-<env>.yaml names none before), so its endpoints are compared too.
SAMPLES = {
    RECS: (
        "--from-stack-file",
        "stacks/samples/Pulumi.recs-staging-promoted.yaml",
        "--to-stack-file",
        "stacks/samples/Pulumi.recs-prod-promoted.yaml",
    )
}


def _plan(env: str, *resources: tuple[str, str, dict]) -> Plan:
    stack = f"urn:pulumi:{env}::mlplatform::"
    items = [
        PlannedResource(f"{stack}{type_}::{name.format(env=env)}", type_, name.format(env=env), None, None, [], inputs)
        for type_, name, inputs in resources
    ]
    return Plan("mlplatform", env, env, "b.py", items, platform="fraud")


LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def test_only_what_the_platform_named_is_hidden() -> None:
    """`/dev/xvda` is a device, not the dev environment; `fraud-dev-...` and the tag are."""

    def template(env: str) -> dict:
        return {
            "name": f"fraud-{env}-train-gpu",
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100}}],
            "tags": {"mlplatform:environment": env, "Name": f"fraud-{env}-train"},
            "description": f"GPU nodes of fraud {env}",
        }

    dev = _plan("dev", (LAUNCH_TEMPLATE, "train-gpu-lt", template("dev")))
    prod = _plan("prod", (LAUNCH_TEMPLATE, "train-gpu-lt", template("prod")))
    result = diff_plans(dev, prod)
    assert result.lines() == ["diff dev -> prod: 0 only in dev, 0 only in prod, 0 changed, 1 unchanged"]
    # A real change to the device is still seen, spelled as it is.
    prod.resources[0].inputs["blockDeviceMappings"][0]["deviceName"] = "/dev/sdf"
    assert diff_plans(dev, prod).lines()[1:] == [
        "~ aws:ec2:LaunchTemplate train-gpu-lt",
        '    blockDeviceMappings[0].deviceName: "/dev/xvda" -> "/dev/sdf"',
    ]


def test_map_keys_are_compared_like_values() -> None:
    """A Grafana dashboard ConfigMap keyed by the platform's name is the same key in both."""
    dev = _plan("dev", (CONFIG_MAP, "fraud-{env}-dashboard", {"data": {"fraud-dev-monitoring.json": "{}"}}))
    prod = _plan("prod", (CONFIG_MAP, "fraud-{env}-dashboard", {"data": {"fraud-prod-monitoring.json": "{}"}}))
    assert diff_plans(dev, prod).lines() == ["diff dev -> prod: 0 only in dev, 0 only in prod, 0 changed, 1 unchanged"]


def _policy(env: str, *extra: dict) -> str:
    statements = [
        {"Sid": "ReadOwnArtifact", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": f"arn:aws:s3:::fraud-{env}-model-registry-123456789012/models/m/7/*"},
        *extra,
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:CreateLogStream"], "Resource": "*"},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def test_json_documents_are_compared_inside() -> None:
    capture = {"Sid": "WriteCapturedData", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:x"}
    dev = _plan("dev", (ROLE_POLICY, "scorer-role-policy", {"policy": _policy("dev")}))
    prod = _plan("prod", (ROLE_POLICY, "scorer-role-policy", {"policy": _policy("prod", capture)}))
    result = diff_plans(dev, prod)
    # An inserted statement is one addition (statements are matched by Sid), not a shift of all after it.
    assert result.lines()[1:] == [
        "~ aws:iam:RolePolicy scorer-role-policy",
        '    policy.Statement[Sid=WriteCapturedData].Action: (unset) -> ["s3:PutObject"]',
        '    policy.Statement[Sid=WriteCapturedData].Effect: (unset) -> "Allow"',
        '    policy.Statement[Sid=WriteCapturedData].Resource: (unset) -> "arn:x"',
        '    policy.Statement[Sid=WriteCapturedData].Sid: (unset) -> "WriteCapturedData"',
    ]
    assert result.to_json()["changed"][0]["changes"][0] == {
        "path": "policy.Statement[Sid=WriteCapturedData].Action",
        "to": ["s3:PutObject"],
    }


def test_a_string_that_only_looks_like_json_is_a_string() -> None:
    dev = _plan("dev", (CONFIG_MAP, "c", {"data": {"note": "[not json"}}))
    prod = _plan("prod", (CONFIG_MAP, "c", {"data": {"note": "[not json either"}}))
    assert diff_plans(dev, prod).lines()[2] == '    data.note: "[not json" -> "[not json either"'


@pytest.fixture
def _at_root(monkeypatch: pytest.MonkeyPatch, cached_plans: None) -> None:
    """At the repository root, each example planned once for the module's tests (cached_plans)."""
    monkeypatch.chdir(ROOT)


@pytest.mark.usefixtures("_at_root")
@pytest.mark.parametrize("blueprint", [FRAUD, RECS])
def test_the_examples_show_no_change_that_is_only_the_environment(blueprint: str) -> None:
    extra = SAMPLES.get(blueprint, ())
    result = runner.invoke(app, ["diff", blueprint, "--from", "staging", "--to", "prod", *extra, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["only_in_from"], data["only_in_to"]) == ([], [])
    for resource in data["changed"]:
        for change in resource["changes"]:
            before, after = change.get("from"), change.get("to")
            text = json.dumps([before, after])
            # Nothing that differs only by the environment's name.
            assert json.dumps(before).replace("staging", "prod") != json.dumps(after), (resource["name"], change)
            assert "/<env>/xvda" not in text


@pytest.mark.usefixtures("_at_root")
def test_fraud_staging_to_prod_shows_the_differences_the_blueprint_declares() -> None:
    result = runner.invoke(app, ["diff", FRAUD, "--from", "staging", "--to", "prod"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # The GPU pool and quota: per_env(dev=2, prod=16, default=4) in the blueprint.
    assert any(line.endswith(": 4 -> 16") or line.endswith(': "4" -> "16"') for line in lines)
    assert "~ aws:kms:Key core-key" not in lines  # its description names the environment, nothing else


@pytest.mark.usefixtures("_at_root")
def test_diff_suggests_its_own_flags(tmp_path: Path) -> None:
    copy = tmp_path / "fraud_copy.py"
    copy.write_text((ROOT / FRAUD).read_text())
    result = runner.invoke(app, ["diff", str(copy), "--from", "dev", "--to", "prod"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.endswith(
        "or pass --from-stack NAME or --from-stack-file FILE to plan it with another stack's config\n"
    )
    result = runner.invoke(app, ["diff", str(copy), "--from", "dev", "--to", "prod", "--from-stack", "dev"])
    assert result.stderr.endswith(
        "or pass --to-stack NAME or --to-stack-file FILE to plan it with another stack's config\n"
    )
    result = runner.invoke(
        app, ["diff", str(copy), "--from", "dev", "--to", "prod", "--from-stack", "dev", "--to-stack", "prod"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("diff dev -> prod: ")
    # Each side planned with another blueprint's stack is said on stderr (besides the program's own
    # warnings, such as endpoints left out before their first promotion).
    assert [line for line in result.stderr.splitlines() if "this plan uses" in line] == [
        "note: [dev] stack 'dev' (stacks/Pulumi.dev.yaml) deploys blueprints/fraud_detection.py; this plan uses "
        f"{copy} in its place",
        "note: [prod] stack 'prod' (stacks/Pulumi.prod.yaml) deploys blueprints/fraud_detection.py; this plan uses "
        f"{copy} in its place",
    ]
