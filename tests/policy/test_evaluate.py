"""Waivers, opt-outs, and production-only failure."""

from __future__ import annotations

from mlplatform.plan.model import Plan
from mlplatform.plan.render import blocking
from mlplatform.policy import check_resources, evaluate, is_production
from mlplatform.spec.feature_store import FeatureStore
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.spec.platform import Platform, Waiver
from tests.policy.helpers import res

TOPIC = "aws:sns/topic:Topic"


def platform(*waivers: Waiver) -> Platform:
    return Platform(
        name="fraud",
        team="risk-ml",
        components=[
            FeatureStore(name="features", opt_out=["kms_encryption"]),
            MonitoringStack(name="monitoring"),
        ],
        waivers=list(waivers),
    )


def resources() -> list:
    component = res("mlplatform:aws:MonitoringStack", "fraud-prod-monitoring", custom=False)
    return [
        component,
        res(TOPIC, "alerts", {"name": "alerts"}, parent=component.urn),
        res(TOPIC, "other", {"name": "other", "tags": {"mlplatform:component": "features"}}),
    ]


def test_findings_without_waivers() -> None:
    outcome = evaluate(resources(), "prod", platform())
    assert [(v.rule, v.severity, v.checkov, v.waived) for v in outcome.violations] == [
        ("MLP-SNS-001", "error", "CKV_AWS_26", None),
        ("MLP-SNS-001", "error", "CKV_AWS_26", None),
    ]
    assert outcome.blocking
    assert outcome.waivers == []
    assert outcome.opt_outs == [{"component": "features", "kind": "FeatureStore", "opt_out": "kms_encryption"}]


def test_platform_wide_waiver_waives_every_finding_of_the_rule() -> None:
    waiver = Waiver(rule="MLP-SNS-001", reason="alerts carry no customer data")
    outcome = evaluate(resources(), "prod", platform(waiver))
    assert [v.waived for v in outcome.violations] == ["alerts carry no customer data"] * 2
    assert not outcome.errors and not outcome.blocking
    assert outcome.waivers == [
        {"rule": "MLP-SNS-001", "reason": "alerts carry no customer data", "component": None, "waived": 2}
    ]


def test_component_waiver_matches_by_parent_component_and_by_tag() -> None:
    by_parent = evaluate(
        resources(), "prod", platform(Waiver(rule="MLP-SNS-001", reason="x" * 12, component="monitoring"))
    )
    assert [v.waived is not None for v in by_parent.violations] == [True, False]
    by_tag = evaluate(resources(), "prod", platform(Waiver(rule="MLP-SNS-001", reason="x" * 12, component="features")))
    assert [v.waived is not None for v in by_tag.violations] == [False, True]
    assert by_tag.waivers[0]["waived"] == 1


def test_waiver_of_another_rule_waives_nothing() -> None:
    outcome = evaluate(resources(), "prod", platform(Waiver(rule="MLP-S3-001", reason="not about topics")))
    assert len(outcome.errors) == 2
    assert outcome.waivers[0]["waived"] == 0


def test_errors_block_production_only() -> None:
    assert is_production("prod") and is_production("production") and not is_production("staging")
    assert evaluate(resources(), "prod").blocking
    assert not evaluate(resources(), "dev").blocking
    assert len(evaluate(resources(), "dev").errors) == 2  # still reported
    dev = Plan("mlplatform", "dev", "dev", "b.py", resources(), violations=check_resources(resources(), "dev"))
    prod = Plan("mlplatform", "prod", "prod", "b.py", resources(), violations=check_resources(resources(), "prod"))
    assert blocking(dev) == []
    assert [v.rule for v in blocking(prod)] == ["MLP-SNS-001", "MLP-SNS-001"]


def test_warnings_never_block() -> None:
    group = res("aws:cloudwatch/logGroup:LogGroup", "g", {"name": "/g", "kmsKeyId": "k", "retentionInDays": 30})
    outcome = evaluate([group], "prod")
    assert [v.rule for v in outcome.warnings] == ["MLP-LOG-001"]
    assert not outcome.blocking


def test_readme_lists_every_rule() -> None:
    from pathlib import Path

    from mlplatform.policy import RULES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for rule in RULES.values():
        assert f"| {rule.id} | {rule.severity} | {rule.checkov or '-'} |" in readme
