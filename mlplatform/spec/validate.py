"""Validate a blueprint for its environments: every problem at once, each located."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from mlplatform.spec.guardrail_rules import guardrails
from mlplatform.spec.locate import Locator
from mlplatform.spec.messages import message, model_at, show, unknown_choice
from mlplatform.spec.per_env import PerEnv
from mlplatform.spec.platform import Component, Platform
from mlplatform.spec.problems import Problem
from mlplatform.spec.resolve import resolve
from mlplatform.spec.rules import RULES, Context, opt_outs, physical_names

DEFAULT_ENVIRONMENTS = ["dev", "staging", "prod"]


@dataclass
class Validated:
    """The platform resolved per environment (where valid) and every problem found."""

    file: str
    specs: dict[str, Platform] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def declared_environments(raw: Any) -> list[str]:
    envs = raw.get("environments") if isinstance(raw, dict) else None
    if isinstance(envs, list) and envs and all(isinstance(e, str) for e in envs):
        return list(dict.fromkeys(envs))
    return list(DEFAULT_ENVIRONMENTS)


def validate_raw(
    raw: Any, file: str, lines: dict[tuple[Any, ...], int] | None = None, envs: list[str] | None = None
) -> Validated:
    """Validate plain blueprint data (as `Declaration.to_raw` produces) for `envs` (default: all)."""
    result = Validated(file)
    lines = lines or {}
    if not isinstance(raw, dict):
        result.problems.append(Problem(file, 0, "Platform", "", "a blueprint must be a Platform(...)"))
        return result
    declared = declared_environments(raw)
    if isinstance(raw.get("environments"), PerEnv):
        loc = Locator(file, raw, lines)
        result.problems.append(
            loc.problem(
                ("environments",),
                (
                    "environments cannot be per_env; list every environment once, "
                    "e.g. environments=['dev', 'staging', 'prod']"
                ),
            )
        )
        return result
    wanted = envs or declared
    for env in wanted:
        if env not in declared:
            result.problems.append(
                Locator(file, raw, lines).problem(("environments",), unknown_choice(env, declared, "environment"))
            )
    found: dict[Problem, set[str]] = defaultdict(set)
    checked = [e for e in wanted if e in declared]
    for env in checked:
        spec, problems = _validate_env(raw, env, declared, file, lines)
        if spec is not None:
            result.specs[env] = spec
        for problem in problems:
            found[problem].add(env)
    result.problems.extend(_collapse(found, checked))
    order = {e: i for i, e in enumerate(declared)}
    result.problems.sort(
        key=lambda p: (p.severity != "error", p.line, p.component, p.field, order.get(p.env or "", -1), p.message)
    )
    return result


def _validate_env(
    raw: dict[str, Any], env: str, declared: list[str], file: str, lines: dict[tuple[Any, ...], int]
) -> tuple[Platform | None, list[Problem]]:
    """Validate the platform's own fields and each component on its own, so that one broken
    component (or platform field) does not hide the cross-component rules' findings."""
    resolved, unresolved = resolve(raw, env, declared)
    loc = Locator(file, resolved, lines)
    problems = [loc.problem(path, text) for path, text in unresolved]
    # A per_env without a value for `env` is reported once, not again as the missing value's type.
    skip = {path for path, _ in unresolved}
    components = resolved.get("components", [])
    if not isinstance(components, list):
        problems.append(loc.problem(("components",), f"must be a list of components; got {show(components)}"))
        components = []
    valid: list[Any] = []
    index: list[int] = []
    # Components with invalid fields take part in the rules without them (see _repaired), so one
    # bad field does not hide the component's other problems; findings on those fields are dropped.
    replaced: dict[int, set[str]] = {}
    for i, item in enumerate(components):
        try:
            valid.append(_COMPONENT.validate_python(item))
            index.append(i)
        except ValidationError as exc:
            problems.extend(_pydantic(loc, exc, ("components", i), skip))
            repaired = _repaired(item, exc)
            if repaired is not None:
                valid.append(repaired[0])
                index.append(i)
                replaced[i] = repaired[1]
    spec, bad_fields = _platform(resolved, valid, loc, skip, problems)
    if spec is None:
        return None, problems

    def at(path: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(path) >= 2 and path[0] == "declared":  # already a raw index
            return ("components", *path[1:])
        if len(path) >= 2 and path[0] == "components":
            return ("components", index[path[1]], *path[2:])
        return path

    ctx = Context(env, tuple(_kind_and_name(item) for item in components))
    # Physical names are only meaningful with a valid platform name and environment name.
    names_ok = "name" not in bad_fields and _ENV_NAME.match(env) is not None
    rules = [rule for rule in RULES if names_ok or rule is not physical_names]
    findings = [(at(path), text, True) for rule in rules for path, text in rule(spec, ctx)]
    findings += [(at(path), text, is_error) for path, text, is_error in (*opt_outs(spec, env), *guardrails(spec, env))]
    problems.extend(
        loc.problem(path, text, severity="error" if is_error else "warning")
        for path, text, is_error in findings
        if not _on_replaced(path, text, replaced)
    )
    ok = not bad_fields and not replaced and not any(p.severity == "error" for p in problems)
    ok = ok and len(valid) == len(components)
    return (spec if ok else None), problems


# Required component fields and values that satisfy them, used only to run the rules over a
# component whose own value failed; the component's raw value is put back when it is a string.
_COMPONENT_STAND_INS = {"name": "component", "model": "model"}


def _repaired(item: Any, exc: ValidationError) -> tuple[Any, set[str]] | None:
    """The component without its invalid top-level fields (defaults, or stand-ins for required
    ones), and the names of those fields; None when it cannot be rebuilt (not a component, an
    unknown kind, or the rebuilt one still fails)."""
    if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
        return None
    bad: set[str] = set()
    for error in exc.errors():
        path = list(error["loc"])
        if path and path[0] == item["kind"]:
            path = path[1:]  # the union tag pydantic puts first
        if not path or not isinstance(path[0], str) or path[0] == "kind":
            return None
        bad.add(path[0])
    kept = {k: v for k, v in item.items() if k not in bad}
    for name in bad & set(_COMPONENT_STAND_INS):
        kept[name] = _COMPONENT_STAND_INS[name]
    try:
        rebuilt = _COMPONENT.validate_python(kept)
    except ValidationError:
        return None
    originals = {f: item[f] for f in bad & set(_COMPONENT_STAND_INS) if isinstance(item.get(f), str)}
    return rebuilt.model_copy(update=originals), bad


def _on_replaced(path: tuple[Any, ...], text: str, replaced: dict[int, set[str]]) -> bool:
    """Whether a finding of a repaired component may come from a replaced value: it is about a
    replaced field, or its message names one (messages name the fields they compare, as
    "min_instances (2) is greater than max_instances (1)" does)."""
    if len(path) < 2 or path[0] != "components" or path[1] not in replaced:
        return False
    fields = replaced[path[1]]
    if len(path) >= 3 and path[2] in fields:
        return True
    return any(re.search(rf"\b{re.escape(f)}\b", text) for f in fields)


_ENV_NAME = re.compile(r"^[a-z][a-z0-9]{1,11}$")  # as platform.EnvName

# Stand-ins for invalid required platform fields, so the rules still check the components.
_STAND_INS = {"name": "platform", "team": "team"}


def _platform(
    resolved: dict[str, Any], valid: list[Any], loc: Locator, skip: set[tuple[Any, ...]], problems: list[Problem]
) -> tuple[Platform | None, set[str]]:
    """The Platform over the valid components. When its own fields are invalid, they are
    reported and the Platform is rebuilt without them (their defaults, or stand-ins), so that the
    rules over components still run; the second element names the fields that were replaced."""
    try:
        return Platform.model_validate({**resolved, "components": valid}), set()
    except ValidationError as exc:
        problems.extend(_pydantic(loc, exc, (), skip))
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    fields = {k: v for k, v in resolved.items() if k not in bad and k != "components"}
    for key, value in _STAND_INS.items():
        if key in bad or key not in fields:
            fields[key] = value
            bad.add(key)
    try:
        return Platform.model_validate({**fields, "components": valid}), bad
    except ValidationError:
        return None, bad


def _pydantic(loc: Locator, exc: ValidationError, prefix: tuple[Any, ...], skip: set[tuple[Any, ...]]) -> list[Problem]:
    out = []
    for error in exc.errors(include_url=False):
        path = (*prefix, *error["loc"])
        if skip and _under(loc.clean(path), skip):
            continue
        out.append(loc.problem(path, message(error, model_at(Platform, path))))
    return out


def _under(path: tuple[Any, ...], roots: set[tuple[Any, ...]]) -> bool:
    return any(path[: len(root)] == root for root in roots)


def _kind_and_name(item: Any) -> tuple[str, str]:
    if not isinstance(item, dict):
        return ("", "")
    kind, name = item.get("kind"), item.get("name")
    return (kind if isinstance(kind, str) else "", name if isinstance(name, str) else "")


_COMPONENT: TypeAdapter[Component] = TypeAdapter(Component)


def _collapse(found: dict[Problem, set[str]], envs: list[str]) -> list[Problem]:
    """A problem seen in every environment is reported once; otherwise once per environment."""
    out: list[Problem] = []
    for problem, seen in found.items():
        if (len(envs) > 1 and set(envs) == seen) or len(envs) == 1:
            out.append(problem)
        else:
            out.extend(_with_env(problem, e) for e in envs if e in seen)
    return out


def _with_env(problem: Problem, env: str) -> Problem:
    return Problem(problem.file, problem.line, problem.component, problem.field, problem.message, env, problem.severity)
