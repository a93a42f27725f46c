"""The README's first-deploy walk-through, command by command.

A fresh account has no model versions and SageMaker's CreateModel checks the artifact exists
(SageMaker API Reference, CreateModel), so the bootstrap is: `pulumi up` without endpoints,
`register` in dev, `promote`, `pulumi up` again. Each `mlplatform` line must parse against the
CLI as written, the order must be that one, and the step-1 plan of every environment must plan
no SageMaker Model.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mlplatform.cli.app import app
from tests.conftest import ROOT

runner = CliRunner()


def _walkthrough() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### First deploy", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None, "README: ### First deploy has no bash block"
    text = block.group(1).replace("\\\n", " ")
    commands: list[list[str]] = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in line.split("&&"):
            commands.append(shlex.split(part.replace("<digest>", "0" * 64)))
    return commands


def _kinds(commands: list[list[str]]) -> list[str]:
    out = []
    for c in commands:
        if c[:2] == ["pulumi", "up"]:
            out.append(f"pulumi up {c[c.index('-s') + 1]}")
        elif c[0] == "mlplatform" and c[1] == "promote":
            out.append(f"promote {c[c.index('--from') + 1]}->{c[c.index('--to') + 1]}")
        elif c[0] == "mlplatform" and c[1] in ("register", "approve"):
            out.append(f"{c[1]} {c[c.index('--env') + 1]}")
    return out


def test_the_order_is_deploy_without_endpoints_register_promote_deploy() -> None:
    assert _kinds(_walkthrough()) == [
        "pulumi up dev",
        "pulumi up staging",
        "pulumi up prod",
        "register dev",
        "promote dev->staging",
        "pulumi up staging",
        "approve staging",
        "promote staging->prod",
        "pulumi up prod",
    ]


def test_every_mlplatform_command_parses_as_written() -> None:
    group: Any = typer.main.get_command(app)
    lines = [c for c in _walkthrough() if c[0] == "mlplatform"]
    assert len(lines) >= 6
    for args in lines:
        command = group.commands[args[1]]
        # click parses the arguments as the CLI would: an unknown option or a missing value raises.
        command.make_context(args[1], args[2:])


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_step_one_plans_each_environment_without_a_sagemaker_model(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The stack files hold no promoted version: what step 1's `pulumi up` deploys.
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["plan", "blueprints/fraud_detection.py", "--env", env, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    types = {r["type"] for r in plan["resources"]}
    assert "aws:eks/cluster:Cluster" in types and "aws:sagemaker/model:Model" not in types
    assert (
        f"ModelEndpoint 'scorer': model 'fraud-xgb' has no promoted version in {env} (stack config "
        "mlplatform:models); the endpoint is left out until one is promoted"
    ) in plan["warnings"]
