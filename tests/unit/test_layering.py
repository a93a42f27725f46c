"""The architecture in DESIGN.md, enforced: layers import downward only.

Every import statement counts, at module level or inside a function (the CLI imports lazily).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "mlplatform"

# What each part may import from the project (besides itself) and which third-party roots it
# must not import. `*` means any project module except the CLI.
ALLOWED: dict[str, tuple[set[str], set[str]]] = {
    "errors": (set(), {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "naming": (set(), {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "spec": ({"errors", "naming"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "blueprint": ({"spec", "errors"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "stack_config": ({"errors"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    # Feast's feature_store.yaml, rendered for the components and for the CLI alike.
    "feast_config": ({"spec", "naming"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "policy": ({"plan", "spec", "errors"}, {"pulumi_aws", "pulumi_kubernetes", "boto3"}),
    # The per-run context sits below both the program that fills it and the components that read it.
    "context": ({"spec", "naming", "stack_config"}, {"pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "components": (
        {"spec", "naming", "errors", "context", "stack_config", "components", "feast_config"},
        {"boto3"},
    ),
    "program": (
        {"components", "context", "blueprint", "spec", "naming", "stack_config", "errors"},
        {"boto3"},
    ),
    "promotion": (
        {"spec", "naming", "stack_config", "blueprint", "errors", "promotion"},
        {"pulumi_aws", "pulumi_kubernetes"},
    ),
    "plan": ({"*"}, set()),
    "cli": ({"*", "cli"}, set()),
}


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "mlplatform":
                found.update(f"mlplatform.{alias.name}" for alias in node.names)
    return found


SOURCES = sorted(
    p for p in PACKAGE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py") or p.parent != PACKAGE
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_downward(path: Path) -> None:
    part = _part(path)
    allowed, forbidden = ALLOWED[part]
    wrong = []
    for name in sorted(_imports(path)):
        root, _, rest = name.partition(".")
        if root in forbidden:
            wrong.append(name)
        elif root == "mlplatform" and rest:
            target = rest.split(".")[0]
            if target == part:
                continue
            if target == "cli" or not ("*" in allowed or target in allowed):
                wrong.append(name)
    assert wrong == [], f"{path.relative_to(ROOT)} ({part}) imports {wrong}"


def test_every_part_has_a_rule() -> None:
    assert {_part(p) for p in SOURCES} <= set(ALLOWED)
