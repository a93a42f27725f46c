"""pydantic errors rewritten as messages that say what was wrong and what would be right."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails


def message(error: ErrorDetails, model: type[BaseModel] | None) -> str:
    kind = error["type"]
    loc = error["loc"]
    given = error.get("input")
    if kind == "extra_forbidden":
        field = str(loc[-1])
        known = sorted(model.model_fields) if model else []
        known = [k for k in known if k not in ("kind", "strategy")]
        close = difflib.get_close_matches(field, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown field '{field}'{hint} (known fields: {', '.join(known)})"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        return f"{error['msg']}"
    text = error["msg"]
    if text.startswith("Value error, "):
        text = text[len("Value error, ") :]
    if kind in ("string_pattern_mismatch",) and isinstance(given, str):
        pattern = (error.get("ctx") or {}).get("pattern", "")
        return f"'{given}' does not match the required pattern {pattern}"
    return f"{text}; got {_show(given)}"


def _show(value: Any) -> str:
    text = repr(value)
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
    from mlplatform.spec.feature_store import FeatureStore
    from mlplatform.spec.model_endpoint import ModelEndpoint
    from mlplatform.spec.monitoring import MonitoringStack
    from mlplatform.spec.training_cluster import TrainingCluster

    return {m.__name__: m for m in (FeatureStore, TrainingCluster, ModelEndpoint, MonitoringStack)}


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
