"""validate_raw: every problem at once, located, reported once when it holds in every environment."""

from __future__ import annotations

from typing import Any

from mlplatform import per_env
from mlplatform.blueprint import load
from mlplatform.spec.messages import show
from mlplatform.spec.problems import BlueprintInvalid, Problem
from mlplatform.spec.validate import validate_raw
from tests.conftest import BLUEPRINTS


def _endpoint(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "ModelEndpoint",
        "name": "scorer",
        "model": "fraud-xgb",
        "min_instances": 2,
        "max_instances": 4,
        **fields,
    }


def _platform(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "fraud", "team": "risk-ml", "components": list(components), **fields}


def _messages(raw: dict[str, Any], envs: list[str] | None = None) -> list[str]:
    return [str(p) for p in validate_raw(raw, "bp.py", {}, envs).problems]


def test_valid_platform_resolves_for_every_environment() -> None:
    result = validate_raw(_platform(_endpoint(max_instances=per_env(dev=2, default=4))), "bp.py")
    assert result.ok and result.problems == []
    assert list(result.specs) == ["dev", "staging", "prod"]
    assert [s.components[0].max_instances for s in result.specs.values()] == [2, 4, 4]  # type: ignore[union-attr]


def test_declared_environment_order_is_kept() -> None:
    result = validate_raw(_platform(environments=["test", "live"]), "bp.py")
    assert list(result.specs) == ["test", "live"]


def test_readable_bounds_and_types() -> None:
    raw = _platform(_endpoint(min_instances=0, max_instances="x", data_capture_percent=101, kserve="maybe"))
    assert _messages(raw) == [
        "bp.py: ModelEndpoint 'scorer', field 'data_capture_percent': must be <= 100; got 101",
        "bp.py: ModelEndpoint 'scorer', field 'kserve': must be True or False; got 'maybe'",
        "bp.py: ModelEndpoint 'scorer', field 'max_instances': must be an integer; got 'x'",
        "bp.py: ModelEndpoint 'scorer', field 'min_instances': must be >= 1; got 0",
    ]


def test_greater_than_and_fractional_numbers() -> None:
    raw = _platform(
        _endpoint(gpus=1.5), {"kind": "MonitoringStack", "name": "monitoring", "latency_p99_ms": 0, "endpoints": []}
    )
    assert _messages(raw) == [
        "bp.py: ModelEndpoint 'scorer', field 'gpus': must be a whole number; got 1.5",
        "bp.py: MonitoringStack 'monitoring', field 'latency_p99_ms': must be > 0; got 0",
    ]


def test_problem_only_in_some_environments_is_tagged_with_them() -> None:
    raw = _platform(_endpoint(min_instances=per_env(dev=1, default=4), max_instances=per_env(prod=8, default=2)))
    assert _messages(raw) == [
        "bp.py: [staging] ModelEndpoint 'scorer', field 'min_instances': min_instances (4) is greater than "
        "max_instances (2); raise max_instances to at least 4 or lower min_instances",
    ]


def test_missing_per_env_value_is_reported_once_not_again_as_a_type_error() -> None:
    assert _messages(_platform(_endpoint(max_instances=per_env(dev=2, staging=2)))) == [
        "bp.py: [prod] ModelEndpoint 'scorer', field 'max_instances': per_env has no value for 'prod' and no "
        "default; add prod=... or default=...",
    ]


def test_invalid_platform_fields_do_not_hide_component_rules() -> None:
    raw = _platform(_endpoint(min_instances=3, max_instances=2), region="mars", name="Fraud!")
    assert _messages(raw) == [
        "bp.py: ModelEndpoint 'scorer', field 'min_instances': min_instances (3) is greater than max_instances (2); "
        "raise max_instances to at least 3 or lower min_instances",
        "bp.py: Platform 'Fraud!', field 'name': must be lowercase letters, digits and '-', starting with a letter "
        "and ending with a letter or digit; got 'Fraud!'",
        "bp.py: Platform 'Fraud!', field 'region': must be an AWS region such as us-east-1; got 'mars'",
    ]
    assert validate_raw(raw, "bp.py").specs == {}


def test_a_broken_component_does_not_hide_the_others() -> None:
    raw = _platform(_endpoint(name="a1", colour=1), _endpoint(name="b1", instance_type="ml.nope"))
    messages = _messages(raw)
    assert len(messages) == 2
    assert messages[0].startswith("bp.py: ModelEndpoint 'a1', field 'colour': unknown field 'colour' (known fields: ")
    assert messages[1] == "bp.py: ModelEndpoint 'b1', field 'instance_type': 'ml.nope' is not a SageMaker instance type"


def test_components_must_be_a_list() -> None:
    assert _messages(_platform() | {"components": "scorer"}) == [
        "bp.py: Platform 'fraud', field 'components': must be a list of components; got 'scorer'"
    ]


def test_a_dangling_reference_to_an_invalid_endpoint_is_not_reported_twice() -> None:
    raw = _platform(_endpoint(max_instances=0), {"kind": "MonitoringStack", "name": "mon", "endpoints": ["scorer"]})
    assert _messages(raw) == ["bp.py: ModelEndpoint 'scorer', field 'max_instances': must be >= 1; got 0"]


def test_unknown_component_kind() -> None:
    assert _messages(_platform({"kind": "Database", "name": "db"})) == [
        "bp.py: Database 'db': must be a component: FeatureStore(...), TrainingCluster(...), ModelEndpoint(...), "
        "MonitoringStack(...), ExperimentTracker(...) or TrainingPipeline(...); got {'kind': 'Database', 'name': 'db'}"
    ]


def test_requested_environment_must_exist() -> None:
    assert _messages(_platform(), ["qa"]) == [
        "bp.py: Platform 'fraud', field 'environments': environment 'qa' is not one of dev, staging, prod"
    ]
    assert _messages(_platform(), ["production"]) == [
        "bp.py: Platform 'fraud', field 'environments': environment 'production' is not one of dev, staging, prod; "
        "did you mean 'prod'?"
    ]


def test_opt_outs_are_warnings_outside_prod_and_the_platform_stays_valid() -> None:
    result = validate_raw(
        _platform({"kind": "FeatureStore", "name": "features", "opt_out": ["versioning"]}),
        "bp.py",
        envs=["dev", "staging"],
    )
    assert result.ok
    assert [str(p) for p in result.warnings] == [
        "bp.py: warning: FeatureStore 'features', field 'opt_out': secure default 'versioning' is turned off"
    ]


def test_not_a_platform() -> None:
    assert _messages([1, 2]) == ["bp.py: Platform: a blueprint must be a Platform(...)"]  # type: ignore[arg-type]


def test_resolve_raises_with_every_error() -> None:
    blueprint = load(BLUEPRINTS / "fraud_detection.py")
    blueprint.raw["components"][2]["min_instances"] = 0
    blueprint.raw["region"] = "nowhere"
    try:
        blueprint.resolve("dev")
    except BlueprintInvalid as exc:
        assert [(p.component, p.field) for p in exc.problems] == [
            ("Platform 'fraud'", "region"),
            ("ModelEndpoint 'scorer'", "min_instances"),
        ]
        assert all(isinstance(p, Problem) and p.line > 0 for p in exc.problems)
    else:
        raise AssertionError("resolve() accepted an invalid blueprint")


def test_show_shortens_and_survives_bad_reprs() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    assert show("x" * 100) == repr("x" * 100)[:57] + "..."
    assert show(Broken()) == "a Broken"
