"""The human plan reads well: endpoints with the model versions they serve, alarms in units with
their description, protected resources, Pulumi's spelling of types, a stable order, and findings
that say what blocks what."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from mlplatform import stack_config
from mlplatform.cli.app import app
from mlplatform.plan.build import build_plan
from mlplatform.plan.render import print_plan
from mlplatform.plan.settings import alarm_condition
from mlplatform.plan.view import display_type
from tests.conftest import ROOT

runner = CliRunner()
FRAUD = "blueprints/fraud_detection.py"


def _text(*args: str) -> list[str]:
    result = runner.invoke(app, ["plan", *args])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch, cached_plans: None) -> None:
    """At the repository root, each example planned once for the module's tests (cached_plans)."""
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(
    ("type_", "shown"),
    [
        ("aws:s3/bucket:Bucket", "aws:s3:Bucket"),
        ("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws:sagemaker:EndpointConfiguration"),
        ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:Deployment"),  # as `pulumi up` shows it
        ("pulumi:providers:kubernetes", "pulumi:providers:kubernetes"),
        ("mlplatform:aws:ModelEndpoint", "mlplatform:aws:ModelEndpoint"),
    ],
)
def test_types_are_spelled_as_pulumi_displays_them(type_: str, shown: str) -> None:
    """tokens.Type.DisplayName in pulumi/pulumi (sdk/go/common/tokens/tokens.go)."""
    assert display_type(type_) == shown


def test_alarms_read_with_units_and_description() -> None:
    latency = {
        "metricName": "ModelLatency",
        "extendedStatistic": "p99",
        "threshold": 200000,
        "comparisonOperator": "GreaterThanThreshold",
        "period": 60,
        "evaluationPeriods": 5,
        "datapointsToAlarm": 3,
        "alarmDescription": "p99 model latency above 200 ms for 3 of 5 minutes",
    }
    assert alarm_condition(latency) == (
        "p99 latency > 200 ms for 3 of 5 min: p99 model latency above 200 ms for 3 of 5 minutes"
    )
    cpu = {"metricName": "CPUUtilization", "statistic": "Average", "threshold": 360,
           "comparisonOperator": "GreaterThanThreshold", "period": 60, "evaluationPeriods": 5}
    assert alarm_condition(cpu) == "average CPU > 360% (summed over vCPUs) for 5 min"
    rate = {
        "threshold": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "evaluationPeriods": 5,
        "datapointsToAlarm": 3,
        "metricQueries": [
            {"id": "errors", "returnData": False, "metric": {"metricName": "Invocation5XXErrors", "period": 60}},
            {"id": "rate", "returnData": True, "expression": "100 * errors / invocations"},
        ],
    }
    assert alarm_condition(rate) == "100 * errors / invocations > 1 for 3 of 5 min"


@pytest.mark.usefixtures("at_root")
def test_the_fraud_prod_plan_shows_endpoint_alarms_and_protection() -> None:
    # prod once a version is promoted (stacks/Pulumi.prod.yaml names none before the first promotion)
    sample = ROOT / "stacks" / "samples" / "Pulumi.prod-promoted.yaml"
    lines = _text(FRAUD, "--env", "prod", "--stack-file", str(sample))
    promoted = stack_config.read(sample).models["fraud-xgb"]
    start = lines.index("Endpoints")
    assert lines[start + 1 : start + 3] == [
        f"  scorer (sagemaker): fraud-xgb version {promoted.version}, {promoted.uri}",
        f"    sha256 {promoted.sha256}, image {promoted.image}",
    ]
    assert f"├── scorer mlplatform:aws:ModelEndpoint  model fraud-xgb version {promoted.version}" in lines
    assert any(
        line.endswith(
            "monitoring-scorer-latency-p99 aws:cloudwatch:MetricAlarm  p99 latency > 200 ms for 3 of 5 min: "
            "p99 model latency above 200 ms for 3 of 5 minutes"
        )
        for line in lines
    )
    assert not any("ModelLatency > 200000" in line for line in lines)
    assert any(line.endswith("core-key aws:kms:Key  protected") for line in lines)
    [protected] = [line for line in lines if line.startswith("protected (")]
    assert {"core-key", "core-ledger", "core-registry"} <= set(protected.split(": ", 1)[1].split(";")[0].split(", "))
    # One spelling of types: the summary table as the tree, as Pulumi shows them.
    table = [m.group(1) for line in lines if (m := re.match(r"│ (\S+:\S+) +│ +\d+ │", line))]
    assert table and all(t == display_type(t) for t in table)
    assert not any("aws:s3/bucket:Bucket" in line for line in lines)
    assert lines[-1].endswith("guardrails: 0 errors, 0 warnings, 1 waived")  # MLP-EKS-001, the public API


def test_the_plan_text_is_the_same_on_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planned twice for real (no cache): the engine registers concurrently, the text is stable."""
    monkeypatch.chdir(ROOT)
    assert _text(FRAUD, "--env", "staging") == _text(FRAUD, "--env", "staging")


def test_components_come_in_build_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    promoted = str(ROOT / "stacks" / "samples" / "Pulumi.dev-promoted.yaml")  # dev with an endpoint
    lines = _text(FRAUD, "--env", "dev", "--stack-file", promoted)
    top = [line.split()[1] for line in lines if re.match(r"^[├└]── ", line)]
    assert top[:6] == ["core", "network", "features", "train", "scorer", "monitoring"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "project"
    dest.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", dest / "Pulumi.yaml")
    for folder in ("stacks", "blueprints"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(dest)
    return dest


def test_an_endpoint_without_a_promoted_version_says_so(repo: Path) -> None:
    prod = repo / "stacks" / "Pulumi.prod.yaml"
    text = prod.read_text()
    prod.write_text(text[: text.index("  # Promoted")])
    lines = _text(FRAUD, "--env", "prod")
    start = lines.index("Endpoints")
    assert lines[start + 1] == (
        "  scorer (sagemaker): not deployed, model 'fraud-xgb' has no promoted version in prod (stack config "
        "mlplatform:models; `mlplatform promote` sets it)"
    )


def test_findings_outside_production_say_they_block_production_only(repo: Path) -> None:
    blueprint = repo / FRAUD
    source = blueprint.read_text()
    blueprint.write_text(source.replace('name="features",', 'name="features", opt_out=["kms_encryption"],', 1))
    lines = _text(FRAUD, "--env", "dev")
    errors = [line for line in lines if line.startswith("error")]
    assert errors and all(line.startswith("error (blocks production only) MLP-") for line in errors)
    assert lines.count("opt-out: FeatureStore 'features' turns off 'kms_encryption'") == 1
    assert not any("secure default 'kms_encryption' is turned off" in line for line in lines)  # said once
    assert lines[-1].endswith(
        f"guardrails: {len(errors)} errors that would block production, only reported in dev, 0 warnings, 1 waived"
    )


def test_the_demo_plan_in_full(project: Path) -> None:
    """The whole text of a small plan, so that every section's form is pinned."""
    console = Console(record=True, width=160, soft_wrap=True, force_terminal=False)  # as the CLI's
    print_plan(build_plan("blueprints/waived.py", "prod"), console)
    assert [line.rstrip() for line in console.export_text().splitlines()] == [
        "demo stack waived-prod (prod)",
        "└── demo-prod-monitoring mlplatform:aws:MonitoringStack",
        "    ├── demo-prod-monitoring-alerts aws:sns:Topic  kms off  MLP-SNS-001 waived",
        "    ├── demo-prod-monitoring-key aws:kms:Key",
        "    ├── demo-prod-monitoring-latency aws:cloudwatch:MetricAlarm  average latency > 0.2 ms for 3 min",
        "    └── demo-prod-monitoring-nat aws:ec2:NatGateway  public",
        "Resources by type",
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━┓",
        "┃ type                       ┃ count ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━┩",
        "│ aws:cloudwatch:MetricAlarm │     1 │",
        "│ aws:ec2:NatGateway         │     1 │",
        "│ aws:kms:Key                │     1 │",
        "│ aws:sns:Topic              │     1 │",
        "├────────────────────────────┼───────┤",
        "│ total                      │     4 │",
        "└────────────────────────────┴───────┘",
        "waived error MLP-SNS-001 [CKV_AWS_26] demo-prod-monitoring-alerts: topic 'demo-prod-monitoring-alerts' is not "
        "encrypted: set kms_master_key_id to the platform key (waived: alerts carry no customer data)",
        "waiver: MLP-SNS-001: alerts carry no customer data (1 finding(s) waived)",
        "warning: a warning from the program",
        "Plan: 4 resources in 1 component for stack 'waived-prod' (environment 'prod', us-west-2); guardrails: 0 "
        "errors, 0 warnings, 1 waived",
    ]
