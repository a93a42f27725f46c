"""diff, graph and cost on the small project, and the CLI's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mlplatform.cli.app import app
from mlplatform.cli.cost import estimate_lines
from mlplatform.plan.build import build_plan
from mlplatform.plan.cost import estimate, price_table
from mlplatform.plan.diff import diff_plans
from mlplatform.plan.graph import render_graph

runner = CliRunner()


def test_diff_lines(project: Path) -> None:
    result = diff_plans(build_plan("blueprints/demo.py", "dev"), build_plan("blueprints/demo.py", "prod"))
    assert result.lines() == [
        "diff dev -> prod: 0 only in dev, 1 only in prod, 2 changed, 2 unchanged",
        "+ aws:ec2:NatGateway demo-prod-monitoring-nat",
        "~ aws:sns:Topic demo-prod-monitoring-alerts",
        '    kmsMasterKeyId: "arn:aws:kms:us-west-2:123456789012:key/mock-key-demo-<env>-monitoring-key" -> (unset)',
        "~ aws:cloudwatch:MetricAlarm demo-prod-monitoring-latency",
        "    threshold: 500 -> 200",
    ]
    data = result.to_json()
    assert data["only_in_to"][0]["name"] == "demo-prod-monitoring-nat"
    assert data["changed"][0]["changes"] == [
        {"path": "kmsMasterKeyId", "from": "arn:aws:kms:us-west-2:123456789012:key/mock-key-demo-<env>-monitoring-key"}
    ]  # unset in prod: no "to"
    assert data["changed"][1]["changes"] == [{"path": "threshold", "from": 500, "to": 200}]


def test_mermaid(project: Path) -> None:
    plan = build_plan("blueprints/demo.py", "prod")
    assert render_graph(plan, "mermaid").splitlines() == [
        "flowchart LR",
        '  c0["demo-prod-monitoring<br/>MonitoringStack (aws), 4 resources"]',
    ]
    assert render_graph(plan, "mermaid", "resource").splitlines() == [
        "flowchart LR",
        '  subgraph c0["demo-prod-monitoring<br/>mlplatform:aws:MonitoringStack"]',
        '    r3["demo-prod-monitoring-alerts<br/>aws:sns:Topic"]',
        '    r2["demo-prod-monitoring-key<br/>aws:kms:Key"]',
        '    r4["demo-prod-monitoring-latency<br/>aws:cloudwatch:MetricAlarm"]',
        '    r1["demo-prod-monitoring-nat<br/>aws:ec2:NatGateway"]',
        "  end",
        "  r3 --> r4",
    ]


def test_dot(project: Path) -> None:
    text = render_graph(build_plan("blueprints/demo.py", "dev"), "dot", "resource")
    assert text.splitlines() == [
        'digraph "demo-dev" {',
        "  rankdir=LR;",
        "  node [shape=box];",
        "  subgraph cluster_c0 {",
        '    label="demo-dev-monitoring\\nmlplatform:aws:MonitoringStack";',
        '    r2 [label="demo-dev-monitoring-alerts\\naws:sns:Topic"];',
        '    r1 [label="demo-dev-monitoring-key\\naws:kms:Key"];',
        '    r3 [label="demo-dev-monitoring-latency\\naws:cloudwatch:MetricAlarm"];',
        "  }",
        "  r2 -> r3;",
        "  r1 -> r2;",
        "}",
    ]


def test_cost_arithmetic_from_the_price_table(project: Path) -> None:
    table = price_table()
    prices = table["regions"]["us-west-2"]
    est = estimate(build_plan("blueprints/demo.py", "prod"), table)
    nat = round(prices["nat_gateway_hour"] * table["hours_per_month"], 2)
    expected = round(nat + prices["kms_key_month"] + prices["alarm_month"], 2)
    assert (est.monthly_min, est.monthly_max) == (expected, expected)
    assert est.components() == {"monitoring": (expected, expected)}
    assert estimate_lines(est)[:6] == [
        "Monthly estimate for us-west-2, USD, 730 hours a month",
        f"monitoring: {expected:,.2f} .. {expected:,.2f}",
        f"  demo-prod-monitoring-nat: NAT gateway (plus data processed, usage-based) at 0.045/hour: {nat:.2f} .. "
        f"{nat:.2f}",
        "  demo-prod-monitoring-key: KMS key at 1/month: 1.00 .. 1.00",
        "  demo-prod-monitoring-latency: CloudWatch alarm at 0.1/month: 0.10 .. 0.10",
        f"total: {expected:,.2f} .. {expected:,.2f} USD/month",
    ]
    assert [u.resource for u in est.usage_based] == ["demo-prod-monitoring-alerts"]
    assert table["date"] and table["source"]
    assert {"us-east-1", "us-west-2", "eu-west-1"} <= set(table["regions"])


BLOCKED = (
    "1 guardrail error(s) block environment 'prod': MLP-SNS-001; fix them, or waive a rule in the "
    "blueprint with Platform(waivers=[Waiver(rule=..., reason=...)])"
)


def test_cli_plan_fails_in_prod_naming_the_rule(project: Path) -> None:
    result = runner.invoke(app, ["plan", "blueprints/demo.py", "--env", "prod"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1].startswith("Plan: 4 resources in 1 component for stack 'prod'")
    assert result.stderr == f"error: {BLOCKED}\n"


def test_cli_plan_json_names_the_blocking_rules_in_the_document(project: Path) -> None:
    # The CLI's contract: under --json a failure is a document on stdout with the exit code; for a
    # blocked plan, the plan itself with the failure that names each blocking rule and resource.
    result = runner.invoke(app, ["plan", "blueprints/demo.py", "--env", "prod", "--json"])
    assert result.exit_code == 1
    assert result.stderr == f"error: {BLOCKED}\n"
    data = json.loads(result.stdout)
    topic = next(r["urn"] for r in data["resources"] if r["type"] == "aws:sns/topic:Topic")
    message = next(v["message"] for v in data["violations"] if v["rule"] == "MLP-SNS-001")
    assert data["error"] == {
        "kind": "invalid",
        "exit_code": 1,
        "message": BLOCKED,
        "rules": ["MLP-SNS-001"],
        "blocking": [{"rule": "MLP-SNS-001", "urn": topic, "message": message}],
    }
    passed = runner.invoke(app, ["plan", "blueprints/waived.py", "--env", "prod", "--json"])
    assert passed.exit_code == 0 and "error" not in json.loads(passed.stdout)


def test_cli_plan_reports_but_passes_outside_prod(project: Path) -> None:
    result = runner.invoke(app, ["plan", "blueprints/other.py", "--stack-file", "stacks/Pulumi.dev.yaml"])
    assert result.exit_code == 0, result.output
    assert "Plan: 3 resources in 1 component for stack 'dev'" in result.output


def test_cli_plan_with_waiver_passes_and_lists_it(project: Path) -> None:
    result = runner.invoke(app, ["plan", "blueprints/waived.py", "--env", "prod"])
    assert result.exit_code == 0, result.output
    assert "waiver: MLP-SNS-001: alerts carry no customer data (1 finding(s) waived)" in result.output
    assert "waived error MLP-SNS-001 [CKV_AWS_26] demo-prod-monitoring-alerts" in result.output


def test_cli_invalid_blueprint_and_usage(project: Path) -> None:
    result = runner.invoke(app, ["plan", "blueprints/invalid.py", "--env", "dev"])
    assert result.exit_code == 1
    assert "blueprints/invalid.py:3" in result.output
    assert runner.invoke(app, ["plan", "blueprints/demo.py"]).exit_code == 2
    assert runner.invoke(app, ["graph", "blueprints/demo.py", "--env", "dev", "--format", "png"]).exit_code == 2


def test_cli_diff_graph_cost(project: Path, tmp_path: Path) -> None:
    diff = runner.invoke(app, ["diff", "blueprints/demo.py", "--from", "dev", "--to", "prod", "--json"])
    assert diff.exit_code == 0, diff.output
    assert json.loads(diff.stdout)["only_in_to"][0]["type"] == "aws:ec2/natGateway:NatGateway"
    out = tmp_path / "g.dot"
    graph = runner.invoke(app, ["graph", "blueprints/demo.py", "--env", "dev", "--format", "dot", "-o", str(out)])
    assert graph.exit_code == 0 and out.read_text().startswith('digraph "demo-dev" {')
    cost = runner.invoke(app, ["cost", "blueprints/demo.py", "--env", "prod", "--json"])
    assert cost.exit_code == 0, cost.output
    assert json.loads(cost.stdout)["total"] == {"monthly_min": 33.95, "monthly_max": 33.95}


class FakePricing:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[dict] = []

    def get_products(self, **kwargs: object) -> dict:
        if self.error:
            raise self.error
        self.calls.append(kwargs)
        product = {
            "product": {"attributes": {"usagetype": "USE1-Host:ml.m5.xlarge"}},
            "terms": {"OnDemand": {"a": {"priceDimensions": {"b": {"pricePerUnit": {"USD": "0.2500000000"}}}}}},
        }
        return {"PriceList": [json.dumps(product)]}


def test_live_prices_with_an_injected_client() -> None:
    from mlplatform.plan.live_prices import with_live_prices
    from mlplatform.plan.model import Plan, PlannedResource

    config = PlannedResource(
        "urn:c",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "c",
        None,
        None,
        inputs={
            "productionVariants": [{"variantName": "p", "instanceType": "ml.m5.xlarge", "initialInstanceCount": 2}]
        },
    )
    plan = Plan("p", "prod", "prod", "b.py", [config], region="us-east-1")
    client = FakePricing()
    live = with_live_prices(price_table(), plan, client)
    assert live["regions"]["us-east-1"]["sagemaker_hosting"]["ml.m5.xlarge"] == 0.25
    assert live["date"] == "live"
    assert client.calls[0]["ServiceCode"] == "AmazonSageMaker"
    assert estimate(plan, live).monthly_min == round(0.25 * 2 * 730, 2)


def test_live_prices_without_credentials() -> None:
    import pytest
    from botocore.exceptions import NoCredentialsError

    from mlplatform.errors import MlplatformError
    from mlplatform.plan.live_prices import with_live_prices
    from mlplatform.plan.model import Plan, PlannedResource

    config = PlannedResource(
        "urn:c",
        "aws:eks/nodeGroup:NodeGroup",
        "n",
        None,
        None,
        inputs={"instanceTypes": ["m6i.2xlarge"], "scalingConfig": {"minSize": 1, "maxSize": 2}},
    )
    plan = Plan("p", "prod", "prod", "b.py", [config], region="us-east-1")
    with pytest.raises(MlplatformError) as exc:
        with_live_prices(price_table(), plan, FakePricing(NoCredentialsError()))
    assert str(exc.value).startswith("--live-prices needs AWS credentials for the Pricing API (pricing:GetProducts)")
