"""pydantic errors rewritten as messages that say what was wrong and what would be right.

pydantic's own texts ("Input should be greater than or equal to 1") are written for developers;
a blueprint author wants "must be >= 1; got 0". Each message ends with the value given, so the
line it is printed with (file:line, component, field) is enough to fix it.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

# Patterns of the spec's constrained strings, said in words.
_PATTERNS: dict[str, str] = {
    r"^[a-z][a-z0-9-]*[a-z0-9]$": "lowercase letters, digits and '-', starting with a letter and ending with "
    "a letter or digit",
    r"^([^@\s]+@[^@\s]+\.[a-z]{2,}|https://\S+)$": "an email address or an https:// URL",
    r"^[a-z][a-z0-9]{1,11}$": "2-12 lowercase letters and digits, starting with a letter",
    r"^MLP-[A-Z0-9]+-\d{3}$": "a guardrail rule id such as MLP-S3-001",
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": "a DNS-1123 label: lowercase letters, digits and '-', starting and "
    "ending with a letter or digit",
    r"^[\w .:/=+@-]+$": "letters, digits, spaces and _ . : / = + @ -",
    r"^[a-z]{2}(-gov)?-[a-z]+-\d$": "an AWS region such as us-east-1",
    r"^vpc-[0-9a-f]{8,17}$": "a VPC id such as vpc-0123456789abcdef0",
    r"^subnet-[0-9a-f]{8,17}$": "a subnet id such as subnet-0123456789abcdef0",
    r"^\d{1,3}(\.\d{1,3}){3}/(1[6-9]|2[0-4])$": "an IPv4 CIDR block with a /16 to /24 prefix, such as 10.0.0.0/16",
    r"^\d{1,3}(\.\d{1,3}){3}/([0-9]|[12][0-9]|3[0-2])$": "an IPv4 CIDR block such as 203.0.113.0/24 or "
    "198.51.100.7/32",
    r"^sg-[0-9a-f]{8,17}$": "a security group id such as sg-0123456789abcdef0",
    r"^1\.\d{2}$": "a Kubernetes minor version such as 1.33",
    r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$": "a letter followed by up to 63 letters, digits or '_'",
    r"^\d+(\.\d+)?m?$": "a CPU quantity such as 1, 0.5 or 500m",
    r"^\d+(Mi|Gi)$": "a memory quantity such as 512Mi or 2Gi",
    r"^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):[0-5]\d$": "a weekday and UTC time such as TUE:03:30",
    r"^\d+\.\d+(\.\d+)?$": "a version such as 3.0 or 2.16.2",
    r"^db\.[a-z0-9]+\.[a-z0-9]+$": "an RDS instance class such as db.t4g.small",
    r"^https://\S+$": "an https:// URL",
}

_TYPES: dict[str, str] = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "True or False",
    "bool_parsing": "True or False",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a dict",
}

_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}

_UNIONS = {
    "'kind'": "a component: FeatureStore(...), TrainingCluster(...), ModelEndpoint(...), MonitoringStack(...), "
    "ExperimentTracker(...) or TrainingPipeline(...)",
    "'strategy'": "a rollout strategy: AllAtOnce(...), Canary(...) or Linear(...)",
}


def message(error: ErrorDetails, model: type[BaseModel] | None) -> str:
    """The message for one pydantic error; `model` owns the field (for lists of known fields)."""
    kind = error["type"]
    loc = error["loc"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    given = error.get("input")
    got = f"; got {show(given)}"
    if kind == "extra_forbidden":
        return _unknown_field(str(loc[-1]) if loc else "?", model)
    if kind == "missing":
        field = str(loc[-1]) if loc else "?"
        return f"is required; add {field}=..."
    if kind in _TYPES:
        return f"must be {_TYPES[kind]}{got}"
    if kind in _BOUNDS:
        limit = next(iter(ctx.values()), "?")
        return f"must be {_BOUNDS[kind]} {_number(limit)}{got}"
    if kind == "string_too_short":
        return f"must be at least {ctx.get('min_length')} characters{got}"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters{got} ({_length(given)} characters)"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s); got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"takes at most {ctx.get('max_length')} item(s); got {ctx.get('actual_length')}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        words = _PATTERNS.get(pattern, f"a string matching {pattern}")
        return f"must be {words}{got}"
    if kind == "literal_error":
        return _literal(str(ctx.get("expected", "")), given)
    if kind in ("model_type", "model_attributes_type"):
        name = ctx.get("class_name")
        if name:
            return f"must be {name}(...){got}"
        what = _UNIONS["'strategy'"] if loc and loc[-1] == "deployment" else _UNIONS["'kind'"]
        return f"must be {what}{got}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        what = _UNIONS.get(str(ctx.get("discriminator")), "one of the declared kinds")
        return f"must be {what}{got}"
    if kind == "value_error":
        return str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
    text = error["msg"]
    return f"{text[0].lower()}{text[1:]}{got}" if text else f"is invalid{got}"


def unknown_choice(value: str, choices: list[str], noun: str) -> str:
    """'x' is not one of the choices, with a close match if there is one."""
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{noun} '{value}' is not one of {', '.join(choices)}{hint}"


def _unknown_field(field: str, model: type[BaseModel] | None) -> str:
    known = [k for k in sorted(model.model_fields) if k not in ("kind", "strategy")] if model else []
    close = difflib.get_close_matches(field, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listed = f" (known fields: {', '.join(known)})" if known else ""
    return f"unknown field '{field}'{hint}{listed}"


def _literal(expected: str, given: Any) -> str:
    choices = re.findall(r"'([^']*)'", expected)
    text = f"must be {expected}; got {show(given)}"
    if isinstance(given, str) and choices:
        close = difflib.get_close_matches(given, choices, n=1, cutoff=0.6)
        if close:
            text += f"; did you mean '{close[0]}'?"
    return text


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def show(value: Any) -> str:
    """A value as the blueprint would spell it, shortened."""
    try:
        text = repr(value)
    except Exception:  # a blueprint may hold any object, its repr too
        text = f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of an error location (for field lists)."""
    from mlplatform.spec.platform import Platform

    model: type[BaseModel] | None = root
    kinds = _component_models() if root is Platform else {}
    for part in loc[:-1]:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        if part in kinds:
            model = kinds[part]
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field else _strategy(str(part))
    return model


def _component_models() -> dict[str, type[BaseModel]]:
    from mlplatform.spec.experiment_tracker import ExperimentTracker
    from mlplatform.spec.feature_store import FeatureStore
    from mlplatform.spec.model_endpoint import ModelEndpoint
    from mlplatform.spec.monitoring import MonitoringStack
    from mlplatform.spec.training_cluster import TrainingCluster
    from mlplatform.spec.training_pipeline import TrainingPipeline

    models = (FeatureStore, TrainingCluster, ModelEndpoint, MonitoringStack, ExperimentTracker, TrainingPipeline)
    return {m.__name__: m for m in models}


def _strategy(tag: str) -> type[BaseModel] | None:
    from mlplatform.spec.model_endpoint import AllAtOnce, Canary, Linear

    models: dict[str, type[BaseModel]] = {"all_at_once": AllAtOnce, "canary": Canary, "linear": Linear}
    return models.get(tag)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
