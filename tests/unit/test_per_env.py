"""per_env: resolution for one environment, and the problems reported when it cannot resolve."""

from __future__ import annotations

from mlplatform import per_env
from mlplatform.spec.per_env import PerEnv
from mlplatform.spec.resolve import resolve

ENVS = ["dev", "staging", "prod"]


def test_per_env_records_values_default_and_line() -> None:
    value = per_env(dev=1, default=2)
    assert isinstance(value, PerEnv)
    assert value.values == {"dev": 1}
    assert value.has_default and value.default == 2
    assert value.line == 13  # the line of the per_env(...) call above
    assert repr(value) == "per_env(dev=1, default=2)"
    assert not per_env(dev=1).has_default
    assert per_env(dev=None, default=None).has_default  # None is a value, not "no default"


def test_named_environment_wins_over_default() -> None:
    raw = {"a": per_env(dev=1, prod=3, default=2)}
    assert resolve(raw, "dev", ENVS) == ({"a": 1}, [])
    assert resolve(raw, "staging", ENVS) == ({"a": 2}, [])
    assert resolve(raw, "prod", ENVS) == ({"a": 3}, [])


def test_resolution_reaches_into_lists_and_dicts() -> None:
    raw = {"components": [{"n": per_env(dev="x", default="y"), "tags": {"t": per_env(prod="p", default="q")}}]}
    value, problems = resolve(raw, "prod", ENVS)
    assert value == {"components": [{"n": "y", "tags": {"t": "p"}}]}
    assert problems == []


def test_values_may_be_structured() -> None:
    raw = {"gates": per_env(dev={}, default={"minimum": {"auc": 0.9}})}
    assert resolve(raw, "staging", ENVS)[0] == {"gates": {"minimum": {"auc": 0.9}}}


def test_missing_value_without_default_is_a_problem_with_its_path() -> None:
    value, problems = resolve({"c": [{"min": per_env(dev=1)}]}, "prod", ENVS)
    assert value == {"c": [{"min": None}]}
    assert problems == [
        (("c", 0, "min"), "per_env has no value for 'prod' and no default; add prod=... or default=...")
    ]


def test_unknown_environment_is_reported_in_every_environment_with_a_hint() -> None:
    _, problems = resolve({"x": per_env(dev=1, prd=2, default=3)}, "dev", ENVS)
    assert problems == [
        (
            ("x",),
            "per_env names environment 'prd', which the platform does not have; "
            "environments are dev, staging, prod; did you mean 'prod'?",
        )
    ]


def test_nested_per_env_is_a_problem() -> None:
    value, problems = resolve({"x": per_env(dev=[per_env(dev=1)], default=[])}, "dev", ENVS)
    assert value == {"x": None}
    assert problems == [(("x",), "per_env values cannot themselves contain per_env")]
    # ...but only in the environments that pick the nested value.
    assert resolve({"x": per_env(dev=[per_env(dev=1)], default=[])}, "prod", ENVS) == ({"x": []}, [])


def test_plain_values_pass_through_untouched() -> None:
    raw = {"a": 1, "b": [1, "2", None], "c": {"d": True}}
    assert resolve(raw, "dev", ENVS) == (raw, [])
