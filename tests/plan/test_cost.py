"""`mlplatform cost`: interface VPC endpoints priced per zone, free resources listed as free, and
a warning when the price table is old."""

from __future__ import annotations

import datetime
import json

import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app
from mlplatform.plan.cost import MAX_PRICE_AGE_DAYS, estimate, price_table
from mlplatform.plan.model import Plan, PlannedResource
from tests.conftest import ROOT

runner = CliRunner()
FRAUD = "blueprints/fraud_detection.py"
STACK = "urn:pulumi:prod::p::"
TABLE = price_table()
FRESH = datetime.date.fromisoformat(TABLE["date"])


def _resource(type_: str, name: str, **inputs: object) -> PlannedResource:
    return PlannedResource(f"{STACK}{type_}::{name}", type_, name, None, None, inputs=dict(inputs))


def _plan(*resources: PlannedResource, region: str = "us-east-1") -> Plan:
    return Plan("p", "prod", "prod", "b.py", list(resources), region=region)


@pytest.mark.parametrize(("region", "hourly"), [("us-east-1", 0.01), ("us-west-2", 0.01), ("eu-west-1", 0.011)])
def test_an_interface_endpoint_is_priced_per_zone_hour(region: str, hourly: float) -> None:
    """AWS PrivateLink pricing: billed for each hour the endpoint is provisioned in each zone."""
    endpoint = _resource(
        "aws:ec2/vpcEndpoint:VpcEndpoint", "vpce-sts", vpcEndpointType="Interface", subnetIds=["a", "b", "c"]
    )
    gateway = _resource("aws:ec2/vpcEndpoint:VpcEndpoint", "vpce-s3", vpcEndpointType="Gateway")
    est = estimate(_plan(endpoint, gateway, region=region), TABLE, today=FRESH)
    [item] = est.items
    assert (item.what, item.unit_price, item.quantity_min) == (
        "interface VPC endpoint x 3 zones (plus data processed, usage-based)",
        hourly,
        3,
    )
    assert item.monthly_min == item.monthly_max == round(hourly * 3 * 730, 2)
    assert [(u.resource, u.reason) for u in est.free] == [("vpce-s3", "gateway endpoint: no hourly or data charge")]
    assert est.not_priced == []


def test_resources_without_a_charge_are_free_not_unpriced() -> None:
    plan = _plan(
        _resource("aws:iam/role:Role", "role"),
        _resource("aws:ec2/launchTemplate:LaunchTemplate", "lt"),
        _resource("kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue", "queue"),
        _resource("aws:cloudwatch/eventRule:EventRule", "rule"),
        _resource("aws:ec2/flowLog:FlowLog", "flow"),
        _resource("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", "mlflow"),
    )
    est = estimate(plan, TABLE, today=FRESH)
    assert [u.resource for u in est.free] == ["role", "lt", "queue", "rule"]
    assert [(u.resource, u.reason) for u in est.usage_based] == [
        ("flow", "flow log records, billed as vended log ingestion into CloudWatch Logs")
    ]
    assert [(u.resource, u.reason) for u in est.not_priced] == [
        ("mlflow", "no price in the table for this resource type")
    ]


def test_an_old_price_table_is_warned_about() -> None:
    old = FRESH + datetime.timedelta(days=MAX_PRICE_AGE_DAYS + 1)
    assert estimate(_plan(), TABLE, today=FRESH + datetime.timedelta(days=MAX_PRICE_AGE_DAYS)).warnings == []
    assert estimate(_plan(), TABLE, today=old).warnings == [
        f"the price table is from {TABLE['date']}, {MAX_PRICE_AGE_DAYS + 1} days ago (more than {MAX_PRICE_AGE_DAYS}): "
        "list prices may have changed since; --live-prices asks the AWS Pricing API for current instance prices"
    ]
    assert estimate(_plan(), {**TABLE, "date": "live"}, today=old).warnings == []


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch, cached_plans: None) -> None:
    """At the repository root, each example planned once for the module's tests (cached_plans)."""
    monkeypatch.chdir(ROOT)


@pytest.mark.usefixtures("at_root")
def test_the_fraud_prod_network_prices_its_interface_endpoints() -> None:
    result = runner.invoke(app, ["cost", FRAUD, "--env", "prod", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [network] = [c for c in data["components"] if c["component"] == "network"]
    endpoints = [i for i in network["items"] if i["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    prices = TABLE["regions"]["us-east-1"]
    assert len(endpoints) == 7  # SageMaker API and runtime, ECR API and DKR, STS, CloudWatch, Logs
    total = sum(i["monthly_min"] for i in endpoints)
    assert total == pytest.approx(7 * 3 * prices["vpc_interface_endpoint_az_hour"] * 730)
    assert round(total, 2) == 153.30  # "about $150 a month"
    assert not [u for u in data["not_priced"] if u["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    free = {u["type"] for u in data["free"]}
    assert {"aws:iam/role:Role", "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/launchTemplate:LaunchTemplate"} <= free
    # What cannot be priced is what has a charge the table lacks, not what is free.
    assert {u["type"] for u in data["not_priced"]} & free == set()
    assert not any(u["type"].startswith(("aws:iam/", "pulumi:", "mlplatform:")) for u in data["not_priced"])


@pytest.mark.usefixtures("at_root")
def test_the_cli_lists_free_resources_and_warns_on_stderr() -> None:
    result = runner.invoke(app, ["cost", FRAUD, "--env", "prod"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    [free] = [line for line in lines if line.startswith("free, no charge of their own: ")]
    assert "aws:iam:Role " in free and "aws:ec2:LaunchTemplate 2" in free
    age = (datetime.date.today() - FRESH).days
    expected = (
        [
            f"warning: the price table is from {TABLE['date']}, {age} days ago (more than {MAX_PRICE_AGE_DAYS}): "
            "list prices may have changed since; --live-prices asks the AWS Pricing API for current instance prices"
        ]
        if age > MAX_PRICE_AGE_DAYS
        else []
    )
    assert result.stderr.splitlines() == expected
    data = json.loads(runner.invoke(app, ["cost", FRAUD, "--env", "prod", "--json"]).stdout)
    assert data["warnings"] == [line.removeprefix("warning: ") for line in expected]
