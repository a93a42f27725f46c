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


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _graph(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["graph", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_component_view_is_the_default_picture() -> None:
    code, out, err = _graph(FRAUD, "--env", "prod")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "flowchart LR",
        '  c64["core<br/>PlatformCore (aws), 27 resources"]',
        '  c14["network<br/>Network (aws), 52 resources"]',
        '  c0["features<br/>FeatureStore (aws), 14 resources"]',
        '  c119["train<br/>TrainingCluster (aws), 20 resources"]',
        '  c9["scorer<br/>ModelEndpoint (aws), 7 resources"]',
        '  c11["monitoring<br/>MonitoringStack (aws), 16 resources"]',
        "  c64 --> c14",
        "  c64 --> c0",
        "  c64 --> c119",
        "  c64 --> c9",
        "  c64 --> c11",
        "  c14 --> c119",
        "  c14 --> c9",
        "  c14 --> c11",
        "  c119 --> c64",  # the registry grants the training jobs' role: core waits for train
        "  c119 --> c0",
    ]


def test_shared_resources_are_a_node_and_the_provider_an_edge() -> None:
    """The Kubernetes provider and namespace belong to no component: they are one node, and every
    component deploying through the provider depends on it."""
    code, out, _ = _graph(RECS, "--env", "prod", "--format", "dot")
    assert code == 0
    assert out.splitlines() == [
        'digraph "mlplatform-recs-prod" {',
        "  rankdir=LR;",
        "  node [shape=box];",
        '  c1 [label="core\\nPlatformCore (aws), 29 resources"];',
        '  c31 [label="features\\nFeatureStore (kubernetes), 16 resources"];',
        '  c64 [label="train\\nTrainingCluster (kubernetes), 7 resources"];',
        '  c48 [label="embedder\\nModelEndpoint (kubernetes), 6 resources"];',
        '  c55 [label="ranker\\nModelEndpoint (kubernetes), 2 resources"];',
        '  c58 [label="monitoring\\nMonitoringStack (kubernetes), 5 resources"];',
        '  shared [label="platform\\n2 shared resources"];',
        "  c1 -> c31;",
        "  shared -> c31;",
        "  shared -> c64;",
        "  shared -> c48;",
        "  shared -> c55;",
        "  shared -> c58;",
        "}",
    ]


@pytest.mark.parametrize("blueprint", [FRAUD, RECS])
def test_resource_view_has_no_orphan_nodes(blueprint: str) -> None:
    code, out, err = _graph(blueprint, "--env", "prod", "--level", "resource")
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
    code, out, err = _graph(RECS, "--env", "prod", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["level"], data["title"]) == ("component", "mlplatform-recs-prod")
    assert data["nodes"][0] == {
        "id": "c1",
        "name": "core",
        "type": "mlplatform:aws:PlatformCore",
        "label": "core\nPlatformCore (aws), 29 resources",
        "group": None,
        "subgraph": False,
        "resources": 29,
    }
    assert {"from": "shared", "to": "c48"} in data["edges"]
    assert _graph(RECS, "--env", "prod", "--format", "json")[1] == out


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
    assert target.read_text().startswith('flowchart LR\n  c64["core<br/>')
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
