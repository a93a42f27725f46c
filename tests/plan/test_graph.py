"""`mlplatform graph`: the component view by default, every resource on request, no node outside
a group, and a warning when a Mermaid diagram exceeds Mermaid's default limits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlplatform.cli.app import app
from mlplatform.plan.graph import MERMAID_MAX_EDGES, build_graph, mermaid, mermaid_warnings
from mlplatform.plan.model import Plan, PlannedResource
from tests.conftest import ROOT

runner = CliRunner()
FRAUD = "blueprints/fraud_detection.py"
RECS = "blueprints/recommender_k8s.py"
# prod once a version is promoted: stacks/Pulumi.prod.yaml serves nothing before the first promotion.
PROMOTED = ("--stack-file", "stacks/samples/Pulumi.prod-promoted.yaml")
# recs-prod once its models are promoted (stacks/Pulumi.recs-prod.yaml names none before): its
# endpoints are drawn; the stack is named after the sample's file.
RECS_PROMOTED = ("--stack-file", "stacks/samples/Pulumi.recs-prod-promoted.yaml")
SAMPLES = {RECS: RECS_PROMOTED}


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch, cached_plans: None) -> None:
    """At the repository root, each example planned once for the module's tests (cached_plans)."""
    monkeypatch.chdir(ROOT)


def _graph(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["graph", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def _plan(blueprint: str, *extra: str) -> dict:
    result = runner.invoke(app, ["plan", blueprint, "--env", "prod", *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _top_level(plan: dict) -> dict[str, str]:
    """Each resource's outermost ancestor, worked out from the plan JSON on its own."""
    by_urn = {r["urn"]: r for r in plan["resources"]}
    out = {}
    for r in plan["resources"]:
        top = r
        while top["parent"] in by_urn:
            top = by_urn[top["parent"]]
        out[r["urn"]] = top["name"] if not top["custom"] else "platform"
    return out


def _component_view(blueprint: str, *extra: str) -> tuple[list[str], set[tuple[str, str]], dict[str, int]]:
    code, out, err = _graph(blueprint, "--env", "prod", *extra)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    node = re.compile(
        r'^  (c\d+|shared)\["([a-z0-9-]+)<br/>(\w+ \((aws|kubernetes)\), )?(\d+) (shared )?resources?"\]$'
    )
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    edges = set()
    for line in lines[1:]:
        if " --> " in line:
            a, b = line.strip().split(" --> ")
            edges.add((names[a], names[b]))
            continue
        match = node.match(line)
        assert match, line
        names[match.group(1)] = match.group(2)
        counts[match.group(2)] = int(match.group(5))
    return list(names.values()), edges, counts


def test_component_view_is_the_default_picture() -> None:
    names, edges, counts = _component_view(FRAUD, *PROMOTED)
    # Foundations first, then what is built on them, in blueprint-kind order.
    assert names[:6] == ["core", "network", "features", "train", "scorer", "monitoring"]
    assert {("core", "scorer"), ("network", "scorer"), ("core", "monitoring"), ("network", "train")} <= edges
    assert ("train", "core") in edges  # the registry grants the training jobs' role: core waits for train
    assert all(a != b for a, b in edges)
    # Each count is the component's resources, as the plan JSON says on its own.
    plan = _plan(FRAUD, *PROMOTED)
    owners = _top_level(plan)
    expected = {name: sum(1 for r in plan["resources"] if r["custom"] and owners[r["urn"]] == name) for name in names}
    assert counts == expected


def test_shared_resources_are_a_node_and_the_provider_an_edge() -> None:
    """The Kubernetes provider, namespace and serving PriorityClass belong to no component: they
    are one node, and every component deploying through the provider depends on it."""
    names, edges, counts = _component_view(RECS, *RECS_PROMOTED)
    assert names[-1] == "platform"
    assert counts["platform"] == 3
    plan = _plan(RECS, *RECS_PROMOTED)
    nested = {r["urn"] for r in plan["resources"] if not r["custom"] and r["type"].startswith("mlplatform:")}
    k8s = {
        r["name"]
        for r in plan["resources"]
        if not r["custom"] and r["type"].startswith("mlplatform:k8s:") and r["parent"] not in nested
    }
    assert k8s and {("platform", name) for name in k8s} <= edges
    code, out, _ = _graph(RECS, "--env", "prod", *RECS_PROMOTED, "--format", "dot")
    assert code == 0
    head = r'digraph "mlplatform-recs-prod-promoted" \{\n  rankdir=LR;\n  node \[shape=box\];\n  c\d+ \[label="core\\n'
    assert re.match(head, out)
    assert '  shared [label="platform\\n3 shared resources"];\n' in out
    assert out.endswith("}\n")


@pytest.mark.parametrize("blueprint", [FRAUD, RECS])
def test_resource_view_has_no_orphan_nodes(blueprint: str) -> None:
    code, out, err = _graph(blueprint, "--env", "prod", *SAMPLES.get(blueprint, ()), "--level", "resource")
    assert (code, err) == (0, "")
    depth = 0
    for line in out.splitlines()[1:]:
        if line.strip().startswith("subgraph "):
            depth += 1
        elif line.strip() == "end":
            depth -= 1
        elif "-->" not in line:
            assert depth > 0, f"node outside every group: {line}"
    declared = set(re.findall(r"^\s*(\w+)\[", out, re.MULTILINE)) | set(re.findall(r"subgraph (\w+)\[", out))
    used = {n for line in out.splitlines() if "-->" in line for n in line.split(" --> ")}
    assert {n.strip() for n in used} <= declared


def test_json_graph() -> None:
    code, out, err = _graph(RECS, "--env", "prod", *RECS_PROMOTED, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["level"], data["title"]) == ("component", "mlplatform-recs-prod-promoted")
    core = data["nodes"][0]
    assert {k: core[k] for k in ("name", "type", "group", "subgraph")} == {
        "name": "core",
        "type": "mlplatform:aws:PlatformCore",
        "group": None,
        "subgraph": False,
    }
    assert core["label"] == f"core\nPlatformCore (aws), {core['resources']} resources"
    ids = {n["name"]: n["id"] for n in data["nodes"]}
    assert {"from": "shared", "to": ids["embedder"]} in data["edges"]
    assert _graph(RECS, "--env", "prod", *RECS_PROMOTED, "--format", "json")[1] == out


def test_json_and_another_format_is_a_usage_error() -> None:
    code, out, err = _graph(FRAUD, "--env", "prod", "--json", "--format", "dot")
    message = "Invalid value: --json prints JSON; it cannot be combined with --format dot"
    assert code == 2
    assert json.loads(out)["error"]["message"] == message
    assert err == f"error: {message}\n"


def test_output_file_gets_the_data_stderr_the_message(tmp_path: Path) -> None:
    target = tmp_path / "platform.mmd"
    code, out, err = _graph(FRAUD, "--env", "prod", "-o", str(target))
    assert (code, out, err) == (0, "", f"wrote {target}\n")
    assert re.match(r'flowchart LR\n  c\d+\["core<br/>', target.read_text())
    code, out, err = _graph(FRAUD, "--env", "prod", "-o", str(target), "--level", "resource", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"wrote": str(target), "format": "json", "level": "resource"}
    assert json.loads(target.read_text())["level"] == "resource"


def _wide_plan(resources: int) -> Plan:
    """One component whose resources each depend on the first: `resources - 1` edges."""
    stack = "urn:pulumi:dev::p::"
    kind, subnet = "mlplatform:aws:Network", "aws:ec2/subnet:Subnet"
    comp = PlannedResource(f"{stack}{kind}::net", kind, "net", None, None, custom=False)
    items = [comp]
    for i in range(resources):
        deps = [f"{stack}{subnet}::subnet-0"] if i else []
        items.append(PlannedResource(f"{stack}{subnet}::subnet-{i}", subnet, f"subnet-{i}", comp.urn, None, deps))
    return Plan("p", "dev", "dev", "b.py", resources=items)


def test_mermaid_limits_are_warned_about() -> None:
    graph = build_graph(_wide_plan(MERMAID_MAX_EDGES + 2), "resource")
    text = mermaid(graph)
    assert len(graph.edges) == 501
    assert len(text) < 50_000
    assert mermaid_warnings(text, len(graph.edges)) == [
        "the diagram has 501 edges, over Mermaid's default maxEdges of 500: renderers fail with 'Too many edges' "
        "unless configured with a larger maxEdges"
    ]
    big = mermaid(build_graph(_wide_plan(1200), "resource"))
    assert len(big) > 50_000
    assert mermaid_warnings(big, 0) == [
        f"the diagram is {len(big):,} characters, over Mermaid's default maxTextSize of 50,000: renderers show "
        "'Maximum text size in diagram exceeded' unless configured with a larger maxTextSize"
    ]
    assert mermaid_warnings(mermaid(build_graph(_wide_plan(10), "resource")), 9) == []


def test_the_cli_warns_on_stderr_for_a_large_resource_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mlplatform.cli.graph.load_plan", lambda *a, **k: _wide_plan(MERMAID_MAX_EDGES + 2))
    code, out, err = _graph(FRAUD, "--env", "dev", "--level", "resource")
    assert code == 0 and out.startswith("flowchart LR\n")
    assert err.splitlines() == [
        "warning: the diagram has 501 edges, over Mermaid's default maxEdges of 500: renderers fail with 'Too many "
        "edges' unless configured with a larger maxEdges",
        "warning: the component view (the default) is smaller; or use --format dot",
    ]
