"""Property tests: random and mutated blueprint data never makes validation raise.

Mutations start from the example blueprints' own data (`load(path).raw`): a field deleted, a
value retyped, an unknown key inserted, a value wrapped in `per_env` or nested in a list or dict.
Whatever comes in, `validate_raw` returns a `Validated` whose problems are well-formed.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplatform.blueprint import load
from mlplatform.spec.per_env import PerEnv
from mlplatform.spec.platform import Platform
from mlplatform.spec.problems import Problem
from mlplatform.spec.validate import Validated, validate_raw
from tests.conftest import BLUEPRINTS

EXAMPLES = {p.name: load(p).raw for p in sorted(BLUEPRINTS.glob("*.py"))}
ENVS = ["dev", "staging", "prod", "qa", "Prod", ""]
KEYS = sorted(
    {"name", "kind", "strategy", "target", "components", "environments", "node_pools", "endpoints", "min_instances"}
    | set(Platform.model_fields)
)

# MLPLATFORM_FUZZ_EXAMPLES raises the count for a longer hunt; the default keeps the suite fast.
FUZZ = settings(
    max_examples=int(os.environ.get("MLPLATFORM_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["dev", "prod", "ml.m5.large", "g5.2xlarge", "scorer", "FeatureStore", "canary", "aws"]),
)


def _per_env(children: st.SearchStrategy[Any]) -> st.SearchStrategy[PerEnv[Any]]:
    values = st.dictionaries(st.sampled_from(ENVS), children, max_size=3)
    default = st.one_of(st.just(None), children).map(lambda v: v)
    return st.builds(
        lambda vals, has_default, d: PerEnv(vals, d) if has_default else PerEnv(vals),
        values,
        st.booleans(),
        default,
    )


values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.integers()), children, max_size=4),
        _per_env(children),
    ),
    max_leaves=12,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in the tree (dict keys, list items, per_env values)."""
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*path, i)))
    elif isinstance(node, PerEnv):
        for k, v in node.values.items():
            out.extend(_paths(v, (*path, ("per_env", k))))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node.values[part[1]] if isinstance(part, tuple) else node[part]
    return node


def _set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = _get(root, path[:-1])
    last = path[-1]
    if isinstance(last, tuple):
        parent.values[last[1]] = value
    else:
        parent[last] = value
    return root


def _delete(root: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return root
    parent = _get(root, path[:-1])
    last = path[-1]
    if isinstance(last, tuple):
        parent.values.pop(last[1], None)
    elif isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent.pop(last)
    return root


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    raw = copy.deepcopy(EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        paths = _paths(raw)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["delete", "retype", "unknown", "per_env", "nest_list", "nest_dict"]))
        target = _get(raw, path)
        if op == "delete":
            raw = _delete(raw, path)
        elif op == "retype":
            raw = _set(raw, path, draw(values))
        elif op == "unknown" and isinstance(target, dict):
            target[draw(st.text(min_size=1, max_size=12))] = draw(values)
        elif op == "per_env":
            envs = draw(st.lists(st.sampled_from(ENVS), max_size=3, unique=True))
            wrapped = PerEnv({e: copy.deepcopy(target) for e in envs})
            if draw(st.booleans()):
                wrapped = PerEnv(wrapped.values, draw(st.one_of(st.just(copy.deepcopy(target)), values)))
            raw = _set(raw, path, wrapped)
        elif op == "nest_list":
            raw = _set(raw, path, [target])
        elif op == "nest_dict":
            raw = _set(raw, path, {draw(st.sampled_from(KEYS)): target})
    return raw


def _check(result: Validated) -> None:
    assert isinstance(result, Validated)
    for problem in result.problems:
        assert isinstance(problem, Problem)
        assert problem.message and isinstance(problem.message, str)
        assert problem.severity in ("error", "warning")
        str(problem)  # renders
    for env, spec in result.specs.items():
        assert isinstance(spec, Platform)
        assert not any(p.env == env and p.severity == "error" for p in result.problems)
    if result.ok:
        assert result.specs


@FUZZ
@given(mutated(), st.one_of(st.none(), st.lists(st.sampled_from(ENVS), min_size=1, max_size=2)))
def test_mutated_examples_never_raise(raw: Any, envs: list[str] | None) -> None:
    _check(validate_raw(raw, "fuzz.py", None, envs))


@FUZZ
@given(st.one_of(values, st.dictionaries(st.sampled_from(KEYS), values, max_size=6)))
def test_random_data_never_raises(raw: Any) -> None:
    _check(validate_raw(raw, "fuzz.py"))


@FUZZ
@given(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["fraud", "recs", "x", "a-very-long-platform-name-for-testing"]), "team": scalars},
        optional={
            "environments": st.one_of(values, st.lists(st.sampled_from(ENVS), max_size=4)),
            "components": st.lists(
                st.fixed_dictionaries(
                    {"kind": st.sampled_from(["FeatureStore", "TrainingCluster", "ModelEndpoint", "MonitoringStack"])},
                    optional={k: values for k in ("name", "target", "endpoints", "min_instances", "model")},
                ),
                max_size=4,
            ),
        },
    )
)
def test_random_platforms_never_raise(raw: dict[str, Any]) -> None:
    _check(validate_raw(raw, "fuzz.py"))


def test_unmutated_examples_are_valid() -> None:
    """The mutation base itself is valid, so every problem found above comes from a mutation."""
    for raw in EXAMPLES.values():
        assert validate_raw(copy.deepcopy(raw), "example.py").ok
