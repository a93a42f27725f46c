"""A small Pulumi project in a temporary folder: its own program registers a few resources,
so plan, diff, graph and cost are tested independently of the real components."""

from __future__ import annotations

from pathlib import Path

import pytest

PROGRAM = """
import pulumi
import pulumi_aws as aws

config = pulumi.Config("mlplatform")
if config.get("kubeContext") == "boom":
    raise RuntimeError("boom")
env = config.require("environment")
tags = {"mlplatform:environment": env, "mlplatform:component": "monitoring"}


class Monitoring(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("mlplatform:aws:MonitoringStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(f"{name}-key", description="alerts", opts=child)
        self.topic = aws.sns.Topic(
            f"{name}-alerts",
            name=f"{name}-alerts",
            kms_master_key_id=key.arn if env != "prod" else None,
            tags=tags,
            opts=child,
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-latency",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=3,
            metric_name="ModelLatency",
            namespace="AWS/SageMaker",
            period=60,
            statistic="Average",
            threshold=200 if env == "prod" else 500,
            alarm_actions=[self.topic.arn],
            tags=tags,
            opts=child,
        )
        if env == "prod":
            aws.ec2.NatGateway(f"{name}-nat", subnet_id="subnet-1", tags=tags, opts=child)
        self.register_outputs({})


Monitoring(f"demo-{env}-monitoring")
pulumi.export("blueprint", config.require("blueprint"))
pulumi.export("environment", env)
pulumi.export("extra", config.get("extra"))
pulumi.log.warn("a warning from the program")
"""

PULUMI_YAML = """name: demo
runtime: python
main: stacks/
config:
  extra:
    type: string
    default: from-project-defaults
"""

BLUEPRINT = """from mlplatform import Platform{imports}

platform = Platform(name="demo", team="t", region="us-west-2"{extra})
"""


def stack(blueprint: str, **extra: str) -> str:
    lines = ["config:", "  aws:region: us-west-2", f"  mlplatform:blueprint: {blueprint}"]
    lines += [f"  {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(PULUMI_YAML)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "__main__.py").write_text(PROGRAM)
    (stacks / "Pulumi.dev.yaml").write_text(stack("blueprints/demo.py"))
    (stacks / "Pulumi.prod.yaml").write_text(stack("blueprints/demo.py"))
    (stacks / "Pulumi.other-prod.yaml").write_text(stack("blueprints/other.py", **{"mlplatform:environment": "prod"}))
    (stacks / "Pulumi.waived-prod.yaml").write_text(
        stack("blueprints/waived.py", **{"mlplatform:environment": "prod"})
    )
    (stacks / "Pulumi.broken.yaml").write_text(
        stack("blueprints/demo.py", **{"mlplatform:kubeContext": "boom", "mlplatform:environment": "dev"})
    )
    blueprints = tmp_path / "blueprints"
    blueprints.mkdir()
    (blueprints / "demo.py").write_text(BLUEPRINT.format(imports="", extra=""))
    (blueprints / "other.py").write_text(BLUEPRINT.format(imports="", extra=""))
    (blueprints / "waived.py").write_text(
        BLUEPRINT.format(
            imports=", Waiver",
            extra=', waivers=[Waiver(rule="MLP-SNS-001", reason="alerts carry no customer data")]',
        )
    )
    (blueprints / "invalid.py").write_text('from mlplatform import Platform\n\nplatform = Platform(name="demo")\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path
