"""Validation knows what the blueprint alone decides about the guardrails, so that `validate`
does not pass what `plan` rejects; all problems of a component come out at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform.blueprint import load
from mlplatform.cli.app import app
from mlplatform.plan.model import PlannedResource
from mlplatform.policy import data as policy_data
from mlplatform.policy.kubernetes import image_tag
from mlplatform.policy.rules import Context
from mlplatform.spec.guardrail_rules import MIN_LOG_RETENTION_DAYS, image_problem
from tests.conftest import ROOT

IMAGES = {
    "ghcr.io/example/ranker:1.4.2": None,
    "ghcr.io/example/ranker@sha256:" + "a" * 64: None,
    "registry.example.com:5000/ranker:2": None,
    "ghcr.io/example/ranker:latest": "is tagged 'latest'",
    "ghcr.io/example/ranker": "has no tag (it means 'latest')",
    "registry.example.com:5000/ranker": "has no tag (it means 'latest')",
}


@pytest.mark.parametrize(("image", "why"), IMAGES.items())
def test_image_rule_agrees_with_the_plan_guardrail(image: str, why: str | None) -> None:
    assert image_problem(image) == why
    deployment = PlannedResource(
        "urn:pulumi:prod::p::kubernetes:apps/v1:Deployment::d",
        "kubernetes:apps/v1:Deployment",
        "d",
        None,
        None,
        inputs={"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}},
    )
    assert bool(image_tag(deployment, Context())) == (why is not None)


def test_log_retention_minimum_is_the_guardrails() -> None:
    assert MIN_LOG_RETENTION_DAYS == policy_data.MIN_LOG_RETENTION_DAYS


def _validate(tmp_path: Path, body: str, *args: str) -> tuple[int, str, str]:
    path = tmp_path / "bp.py"
    path.write_text(
        "from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, MonitoringStack, Network, Platform, Waiver\n"
        f"platform = Platform(name='recs', team='ml', {body})\n"
    )
    result = CliRunner().invoke(app, ["validate", str(path), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


RANKER = (
    "ModelEndpoint(name='ranker', model='recs-ranker', target='kubernetes', image='ghcr.io/x/ranker:latest', "
    "min_instances=2, max_instances=4)"
)
# The cluster's workload identity, which every Kubernetes endpoint needs.
CLUSTER = "kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer='oidc.eks.us-east-1.amazonaws.com/id/X'))"


def test_an_unpinned_image_is_an_error_unless_waived(tmp_path: Path) -> None:
    code, out, err = _validate(tmp_path, f"components=[{RANKER}], {CLUSTER}")
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == (
        f"{tmp_path / 'bp.py'}:2: ModelEndpoint 'ranker', field 'image': image 'ghcr.io/x/ranker:latest' is tagged "
        "'latest', so each pod start may run a different build (guardrail MLP-K8S-010): pin a version tag or a "
        "digest (@sha256:...)"
    )
    waiver = "Waiver(rule='MLP-K8S-010', reason='a mutable image, rebuilt nightly on purpose', component='ranker')"
    assert _validate(tmp_path, f"components=[{RANKER}], {CLUSTER}, waivers=[{waiver}]")[0] == 0


def test_plan_reports_it_the_same_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _validate(tmp_path, f"components=[{RANKER}], {CLUSTER}")
    result = CliRunner().invoke(app, ["plan", str(tmp_path / "bp.py"), "--env", "dev"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert "field 'image': image 'ghcr.io/x/ranker:latest' is tagged 'latest'" in result.stderr


def test_short_log_retention_is_a_warning(tmp_path: Path) -> None:
    body = (
        "components=[ModelEndpoint(name='scorer', model='fraud-xgb', min_instances=2, max_instances=2), "
        "MonitoringStack(name='monitoring', endpoints=['scorer'], log_retention_days=30)], "
        "network=Network(flow_logs_retention_days=90)"
    )
    code, out, err = _validate(tmp_path, body, "--env", "prod")
    path = tmp_path / "bp.py"
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{path}:2: warning: MonitoringStack 'monitoring', field 'log_retention_days': endpoint logs are kept 30 "
        "days, under the 365 days of guardrail MLP-LOG-001",
        f"{path}:2: warning: Platform 'recs', field 'network.flow_logs_retention_days': VPC flow logs are kept 90 "
        "days, under the 365 days of guardrail MLP-LOG-001",
        f"{path}: valid for prod",
    ]
    waived = body + ", waivers=[Waiver(rule='MLP-LOG-001', reason='logs are exported to the SIEM nightly')]"
    assert _validate(tmp_path, waived, "--env", "prod") == (0, f"{path}: valid for prod\n", "")


def test_every_problem_of_an_invalid_component_comes_out(tmp_path: Path) -> None:
    """A bad name, a bad model and a bad number: the rules still see the component's rollout."""
    body = (
        "components=[ModelEndpoint(name='Scorer', model='Fraud_XGB', min_instances=0, deployment=Canary())]"
    ).replace("Canary()", "__import__('mlplatform').Canary()")
    path = tmp_path / "bp.py"
    code, out, err = _validate(tmp_path, body, "--env", "dev")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:2: ModelEndpoint 'Scorer', field 'deployment': a canary rollout rolls back on alarms, and no "
        "MonitoringStack watches 'Scorer'; add it to a MonitoringStack's endpoints",
        f"{path}:2: ModelEndpoint 'Scorer', field 'min_instances': must be >= 1; got 0",
        f"{path}:2: ModelEndpoint 'Scorer', field 'model': must be lowercase letters, digits and '-', starting with a "
        "letter and ending with a letter or digit; got 'Fraud_XGB'",
        f"{path}:2: ModelEndpoint 'Scorer', field 'name': must be lowercase letters, digits and '-', starting with a "
        "letter and ending with a letter or digit; got 'Scorer'",
        f"{path}: invalid, 4 errors",
    ]


def test_a_replaced_value_causes_no_finding_of_its_own(tmp_path: Path) -> None:
    """max_instances is invalid, so its default must not make min_instances look too large."""
    body = "components=[ModelEndpoint(name='scorer', model='fraud-xgb', min_instances=3, max_instances='four')]"
    code, _, err = _validate(tmp_path, body, "--env", "dev")
    assert code == 1
    assert err.splitlines() == [
        f"{tmp_path / 'bp.py'}:2: ModelEndpoint 'scorer', field 'max_instances': must be an integer; got 'four'",
        f"{tmp_path / 'bp.py'}: invalid, 1 error",
    ]


def test_examples_still_resolve() -> None:
    for path in sorted((ROOT / "blueprints").glob("*.py")):
        assert load(path).validate().ok, path
