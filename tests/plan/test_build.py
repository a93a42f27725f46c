"""build_plan: stack selection, config merging, the JSON shape, program failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlplatform.errors import MlplatformError
from mlplatform.plan.build import build_plan
from mlplatform.spec.problems import BlueprintInvalid


def test_plan_json_shape(project: Path) -> None:
    plan = build_plan("blueprints/demo.py", "dev").to_json()
    assert list(plan) == [
        "project",
        "stack",
        "environment",
        "blueprint",
        "platform",
        "resources",
        "outputs",
        "violations",
        "warnings",
        "region",
        "waivers",
        "opt_outs",
        "notes",
        "endpoints",
    ]
    assert (plan["project"], plan["stack"], plan["environment"], plan["region"]) == ("demo", "dev", "dev", "us-west-2")
    assert plan["platform"] == "demo"
    resource = next(r for r in plan["resources"] if r["type"] == "aws:sns/topic:Topic")
    assert list(resource) == [
        "urn",
        "type",
        "name",
        "parent",
        "provider",
        "dependencies",
        "inputs",
        "custom",
        "protect",
    ]
    assert (
        resource["urn"]
        == "urn:pulumi:dev::demo::mlplatform:aws:MonitoringStack$aws:sns/topic:Topic::demo-dev-monitoring-alerts"
    )
    assert resource["parent"].endswith("::demo-dev-monitoring")
    assert resource["inputs"]["name"] == "demo-dev-monitoring-alerts"
    assert (
        resource["inputs"]["kmsMasterKeyId"]
        == "arn:aws:kms:us-west-2:123456789012:key/mock-key-demo-dev-monitoring-key"
    )
    assert any(d.endswith("::demo-dev-monitoring-key") for d in resource["dependencies"])
    assert [r["type"] for r in plan["resources"]] == [
        "mlplatform:aws:MonitoringStack",
        "aws:kms/key:Key",
        "aws:sns/topic:Topic",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
    ]
    assert plan["warnings"] == ["a warning from the program"]
    json.dumps(plan)  # plain data


def test_config_blueprint_override_and_project_defaults(project: Path) -> None:
    plan = build_plan("blueprints/waived.py", "dev", stack="dev")
    assert plan.outputs == {"blueprint": "blueprints/waived.py", "environment": "dev", "extra": "from-project-defaults"}
    # Planning another blueprint with a stack's config is said, not silent.
    assert plan.notes == [(
        "stack 'dev' (stacks/Pulumi.dev.yaml) deploys blueprints/demo.py; "
        "this plan uses blueprints/waived.py in its place"
    )]


def test_env_never_pairs_a_blueprint_with_another_blueprints_stack(project: Path) -> None:
    with pytest.raises(MlplatformError) as exc:
        build_plan("blueprints/waived.py", "dev")
    assert str(exc.value) == (
        "no stack file in stacks/ deploys blueprints/waived.py as environment 'dev'; "
        "stacks/Pulumi.dev.yaml deploys blueprints/demo.py. Add a stack file stacks/Pulumi.NAME.yaml with "
        "mlplatform:blueprint: blueprints/waived.py and mlplatform:environment: dev, or pass --stack NAME or "
        "--stack-file FILE to plan it with another stack's config"
    )


def test_absolute_blueprint_outside_the_project(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "b.py"
    outside.write_text((project / "blueprints" / "demo.py").read_text())
    assert build_plan(outside, "dev", stack="dev").outputs["blueprint"] == str(outside.resolve())


def test_env_picks_the_stack_of_this_blueprint(project: Path) -> None:
    assert build_plan("blueprints/demo.py", "prod").stack == "prod"
    other = build_plan("blueprints/other.py", "prod")
    assert (other.stack, other.environment) == ("other-prod", "prod")


def test_stack_and_stack_file(project: Path) -> None:
    assert build_plan("blueprints/other.py", stack="other-prod").environment == "prod"
    plan = build_plan("blueprints/demo.py", "staging", stack_file=project / "stacks" / "Pulumi.dev.yaml")
    assert (plan.stack, plan.environment) == ("dev", "staging")


def test_stack_file_for_another_environment(project: Path) -> None:
    with pytest.raises(MlplatformError) as exc:
        build_plan("blueprints/other.py", "dev", stack_file=project / "stacks" / "Pulumi.other-prod.yaml")
    assert str(exc.value) == (
        "stacks/Pulumi.other-prod.yaml: stack 'other-prod' is environment 'prod', not 'dev'"
    )


def test_no_stack_for_environment(project: Path) -> None:
    with pytest.raises(MlplatformError) as exc:
        build_plan("blueprints/demo.py", "staging")
    assert str(exc.value) == (
        "no stack file in stacks/ deploys blueprints/demo.py as environment 'staging'. Add "
        "stacks/Pulumi.staging.yaml with mlplatform:blueprint: blueprints/demo.py, or pass --stack NAME or "
        "--stack-file FILE to plan it with another stack's config"
    )


def test_an_environment_the_blueprint_lacks_is_a_blueprint_problem(project: Path) -> None:
    with pytest.raises(BlueprintInvalid) as exc:
        build_plan("blueprints/demo.py", "qa")
    assert [str(p) for p in exc.value.problems] == [
        "blueprints/demo.py:3: Platform 'demo', field 'environments': environment 'qa' is not one of dev, staging, prod"
    ]


def test_invalid_blueprint(project: Path) -> None:
    with pytest.raises(BlueprintInvalid) as exc:
        build_plan("blueprints/invalid.py", "dev")
    assert any("team" in str(p) and str(p).startswith("blueprints/invalid.py:3") for p in exc.value.problems)


def test_program_failure_is_a_message(project: Path) -> None:
    with pytest.raises(MlplatformError) as exc:
        build_plan("blueprints/demo.py", stack="broken")
    assert str(exc.value) == (
        "stack 'broken' (stacks/Pulumi.broken.yaml): the program failed: RuntimeError: boom"
    )


def test_guardrails_and_waivers(project: Path) -> None:
    prod = build_plan("blueprints/demo.py", "prod")
    assert [(v.rule, v.severity, v.waived) for v in prod.violations] == [("MLP-SNS-001", "error", None)]
    assert prod.violations[0].urn.endswith("::demo-prod-monitoring-alerts")
    assert prod.violations[0].message == (
        "topic 'demo-prod-monitoring-alerts' is not encrypted: set kms_master_key_id to the platform key"
    )
    waived = build_plan("blueprints/waived.py", "prod", stack="prod")
    assert [v.waived for v in waived.violations] == ["alerts carry no customer data"]
    assert waived.waivers == [
        {"rule": "MLP-SNS-001", "reason": "alerts carry no customer data", "component": None, "waived": 1}
    ]


def test_several_environments_in_one_process_do_not_leak(project: Path) -> None:
    dev = build_plan("blueprints/demo.py", "dev")
    prod = build_plan("blueprints/demo.py", "prod")
    dev_again = build_plan("blueprints/demo.py", "dev")
    assert all(":dev::" in r.urn for r in dev.resources)
    assert all(":prod::" in r.urn for r in prod.resources)
    assert [r.urn for r in dev_again.resources] == [r.urn for r in dev.resources]
