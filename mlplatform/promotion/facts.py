"""What a blueprint says about names, read without running it.

A blueprint is Python: loading it runs arbitrary code with the caller's credentials. The
commands that need only names (`approve`, `history`, `status`, `unlock`) therefore read the
platform's name, region, environments and served models from the file's syntax tree, and never
execute it. Only `register`, `promote` and `rollback` run the blueprints of the environments
they act on (for gates, images and alarms), and check that the result agrees with this reading.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from mlplatform.promotion.errors import PromotionError

DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class BlueprintFacts:
    file: str
    name: str
    region: str
    environments: tuple[str, ...]
    models: dict[str, tuple[str, ...]] = field(default_factory=dict)  # model -> endpoint names


def read(path: Path, shown: str) -> BlueprintFacts:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=shown)
    except FileNotFoundError:
        raise PromotionError(f"{shown}: blueprint file not found") from None
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        raise PromotionError(f"{shown}: not valid Python: {exc}") from None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    platforms = [c for c in calls if _callee(c) == "Platform"]
    if len(platforms) != 1:
        raise PromotionError(f"{shown}: expected one Platform(...) call, found {len(platforms)}; {_WHY}")
    platform = platforms[0]
    name = _literal(platform, "name", shown, required=True)
    region = _literal(platform, "region", shown) or DEFAULT_REGION
    environments = _literal_list(platform, "environments", shown) or DEFAULT_ENVIRONMENTS
    models: dict[str, list[str]] = {}
    for call in calls:
        if _callee(call) == "ModelEndpoint":
            model = _literal(call, "model", shown, required=True)
            endpoint = _literal(call, "name", shown, required=True)
            models.setdefault(str(model), []).append(str(endpoint))
    return BlueprintFacts(
        shown, str(name), str(region), tuple(environments), {m: tuple(e) for m, e in sorted(models.items())}
    )


_WHY = (
    "commands that need only names read them without running the blueprint: write the Platform's "
    "name, region and environments and each ModelEndpoint's name and model as plain literals"
)


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _literal(call: ast.Call, name: str, shown: str, required: bool = False) -> str | None:
    node = _keyword(call, name)
    if node is None:
        if required:
            raise PromotionError(f"{shown}:{call.lineno}: {_callee(call)}(...) has no {name}=...; {_WHY}")
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise PromotionError(f"{shown}:{node.lineno}: {_callee(call)}({name}=...) is not a string literal; {_WHY}")


def _literal_list(call: ast.Call, name: str, shown: str) -> list[str] | None:
    node = _keyword(call, name)
    if node is None:
        return None
    if isinstance(node, ast.List | ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [str(e.value) for e in node.elts]  # type: ignore[attr-defined]
    raise PromotionError(f"{shown}:{node.lineno}: Platform({name}=...) is not a list of string literals; {_WHY}")
