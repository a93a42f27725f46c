"""The architecture in DESIGN.md, enforced: layers import downward only, and no two modules
import each other (directly or through others).

Every import statement counts: at module level, inside a function (the CLI imports lazily),
under TYPE_CHECKING, and relative imports (resolved to the module they name). The checks are
themselves tested on sources that break them, so that they cannot pass by not looking.
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
    # IAM and resource policy documents, shared by the AWS components and the sandbox.
    "access": ({"naming"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    # What a deploy accepts as promoted (the program's own gate).
    "admission": ({"naming"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "spec": ({"errors", "naming"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "blueprint": ({"spec", "errors"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "stack_config": ({"errors"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    # Feast's feature_store.yaml, rendered for the components and for the CLI alike.
    "feast_config": ({"spec", "naming"}, {"pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3"}),
    # Rules run over the plan's plain data (plan.model imports nothing of the project), never the
    # engine: plan.build imports policy, so the rest of plan is above it.
    "policy": ({"plan.model", "spec", "errors"}, {"pulumi_aws", "pulumi_kubernetes", "boto3"}),
    # The per-run context sits below both the program that fills it and the components that read it.
    "context": ({"spec", "naming", "stack_config"}, {"pulumi_aws", "pulumi_kubernetes", "boto3"}),
    "components": (
        {"spec", "naming", "access", "admission", "errors", "context", "stack_config", "components", "feast_config"},
        {"boto3"},
    ),
    "program": (
        # promotion: with credentials, `pulumi up` checks the entries against the ledger head.
        {"components", "context", "blueprint", "spec", "naming", "stack_config", "errors", "promotion"},
        {"boto3"},
    ),
    "promotion": (
        {"spec", "naming", "access", "stack_config", "blueprint", "errors", "promotion"},
        {"pulumi_aws", "pulumi_kubernetes"},
    ),
    "plan": ({"*"}, set()),
    "cli": ({"*", "cli"}, set()),
}


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _module(path: Path) -> str:
    """mlplatform/plan/model.py -> mlplatform.plan.model; a package's __init__ -> the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of imports under `if TYPE_CHECKING:` (annotations only, not run)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lines.update(n.lineno for body in node.body for n in ast.walk(body) if isinstance(n, ast.stmt))
    return lines


def _imports(path: Path, source: str | None = None, *, run_only: bool = False) -> set[str]:
    """Every module the file imports (relative imports resolved against its package); with
    `run_only`, not those under TYPE_CHECKING. `from package import name` is the module
    package.name when there is one, else the package."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    skip = _type_checking_only(tree) if run_only else set()
    modules = _modules()
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            for alias in node.names:
                found.add(f"{name}.{alias.name}" if f"{name}.{alias.name}" in modules else name)
    return {n for n in found if n}


def _modules() -> set[str]:
    return {_module(p) for p in PACKAGE.rglob("*.py")}


def _resolve(name: str, modules: set[str]) -> str | None:
    """The project module an imported name is (or is in), else None for third-party names."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def violations(path: Path, source: str | None = None) -> list[str]:
    """Imports of `path` that break ALLOWED (its part's permitted targets and forbidden roots)."""
    part = _part(path)
    allowed, forbidden = ALLOWED[part]
    modules = _modules()
    wrong: set[str] = set()
    for name in _imports(path, source):
        root = name.partition(".")[0]
        if root in forbidden:
            wrong.add(root)
            continue
        target = _resolve(name, modules)
        if target is None or target == "mlplatform":
            continue
        rest = target.split(".")[1:]
        if rest[0] == part:
            continue
        if rest[0] == "cli" or not ("*" in allowed or rest[0] in allowed or ".".join(rest[:2]) in allowed):
            wrong.add(target)
    return sorted(wrong)


def import_graph(overrides: dict[Path, str] | None = None) -> dict[str, set[str]]:
    """Project module -> the project modules it imports when it runs (`overrides`: sources to use
    instead). Imports for annotations only (TYPE_CHECKING) cannot make a cycle Python runs into."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = (overrides or {}).get(path)
        targets = {_resolve(n, modules) for n in _imports(path, source, run_only=True)}
        graph[_module(path)] = {t for t in targets if t and t != _module(path) and t != "mlplatform"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan): modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


SOURCES = sorted(
    p for p in PACKAGE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py") or p.parent != PACKAGE
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_downward(path: Path) -> None:
    assert violations(path) == [], f"{path.relative_to(ROOT)} ({_part(path)}) imports {violations(path)}"


def test_no_modules_import_each_other() -> None:
    assert cycles(import_graph()) == []


def test_the_checks_catch_what_they_forbid() -> None:
    """Sources that break the rules, through each way of importing, are caught."""
    component = PACKAGE / "components" / "aws" / "model_endpoint.py"
    assert violations(component, "from mlplatform.program import build\n") == ["mlplatform.program"]
    assert violations(component, "def f():\n    from ...program import build\n") == ["mlplatform.program"]
    typing_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mlplatform.cli\n"
    assert violations(component, typing_only) == ["mlplatform.cli"]
    assert violations(PACKAGE / "spec" / "rules.py", "import pulumi\n") == ["pulumi"]
    assert violations(PACKAGE / "policy" / "rules.py", "from mlplatform.plan import engine\n") == [
        "mlplatform.plan.engine"
    ]
    assert violations(PACKAGE / "policy" / "rules.py", "from mlplatform.plan.model import Plan\n") == []
    context = PACKAGE / "context.py"
    assert violations(context, "from mlplatform import program\n") == ["mlplatform.program"]
    # A cycle: context imported by the program, and importing it back.
    graph = import_graph({context: "from mlplatform.program import build\n"})
    assert ["mlplatform.context", "mlplatform.program"] in [
        [m for m in group if m in ("mlplatform.context", "mlplatform.program")] for group in cycles(graph)
    ]


def test_every_part_has_a_rule() -> None:
    assert {_part(p) for p in SOURCES} <= set(ALLOWED)
