"""Opt-outs against the guardrails: in production each broken rule must be waived."""

from __future__ import annotations

import typing
from pathlib import Path

from typer.testing import CliRunner

from mlplatform.cli.app import app
from mlplatform.policy import RULES
from mlplatform.spec.feature_store import FeatureStoreOptOut
from mlplatform.spec.model_endpoint import ModelEndpointOptOut
from mlplatform.spec.monitoring import MonitoringOptOut
from mlplatform.spec.rules import OPT_OUT_GUARDRAILS
from mlplatform.spec.training_cluster import TrainingClusterOptOut

BLUEPRINT = """\
from mlplatform import FeatureStore, Platform, Waiver

platform = Platform(
    name="demo",
    team="ml",
    components=[
        FeatureStore(name="features", opt_out=["kms_encryption"]),
    ],
    waivers=[{waivers}],
)
"""


def test_every_opt_out_names_registered_rules() -> None:
    kinds = {
        "FeatureStore": FeatureStoreOptOut,
        "TrainingCluster": TrainingClusterOptOut,
        "ModelEndpoint": ModelEndpointOptOut,
        "MonitoringStack": MonitoringOptOut,
    }
    expected = {(kind, name) for kind, literal in kinds.items() for name in typing.get_args(literal)}
    assert set(OPT_OUT_GUARDRAILS) == expected
    for rules in OPT_OUT_GUARDRAILS.values():
        assert rules and all(rule in RULES for rule in rules)


def _validate(tmp_path: Path, waivers: str, env: str) -> tuple[int, str]:
    path = tmp_path / "demo.py"
    path.write_text(BLUEPRINT.format(waivers=waivers))
    result = CliRunner().invoke(app, ["validate", str(path), "--env", env])
    return result.exit_code, result.output


def test_unwaived_opt_out_fails_validation_in_prod(tmp_path: Path) -> None:
    code, output = _validate(tmp_path, "", "prod")
    assert code == 1
    assert output.splitlines() == [
        f"{tmp_path}/demo.py:7: FeatureStore 'features', field 'opt_out': opt-out 'kms_encryption' breaks "
        "guardrail MLP-S3-001, MLP-DDB-002 in prod; remove it, or waive each rule with "
        "Waiver(rule=..., reason=..., component='features')",
        f"{tmp_path}/demo.py: invalid, 1 error",
    ]


def test_a_partial_waiver_still_fails_naming_the_open_rule(tmp_path: Path) -> None:
    code, output = _validate(tmp_path, 'Waiver(rule="MLP-S3-001", reason="bucket holds public data only")', "prod")
    assert code == 1
    assert "breaks guardrail MLP-DDB-002 in prod" in output
    assert "MLP-S3-001" not in output


def test_waived_opt_out_is_a_warning_in_prod(tmp_path: Path) -> None:
    waivers = (
        'Waiver(rule="MLP-S3-001", reason="public reference data only"), '
        'Waiver(rule="MLP-DDB-002", reason="public reference data only", component="features")'
    )
    code, output = _validate(tmp_path, waivers, "prod")
    assert code == 0
    assert output.splitlines()[0] == (
        f"{tmp_path}/demo.py:7: warning: FeatureStore 'features', field 'opt_out': secure default "
        "'kms_encryption' is turned off (waived: MLP-S3-001, MLP-DDB-002)"
    )


def test_opt_out_is_a_warning_outside_prod(tmp_path: Path) -> None:
    code, output = _validate(tmp_path, "", "dev")
    assert code == 0
    assert "warning: FeatureStore 'features', field 'opt_out': secure default 'kms_encryption' is turned off" in output
