"""Secrets stay secret in plans: stack outputs marked secret print as [secret], as `pulumi
preview` shows them (Pulumi docs, "Secrets": outputs of secret values are masked)."""

from __future__ import annotations

import pulumi

from mlplatform.plan.engine import capture


def test_secret_stack_outputs_are_masked_and_plain_ones_kept() -> None:
    def program() -> None:
        pulumi.export("password", pulumi.Output.secret("hunter2"))
        pulumi.export("derived", pulumi.Output.secret("a").apply(lambda v: f"redis://:{v}@host"))
        pulumi.export("bucket", "fraud-dev-model-registry-123456789012")

    outputs = capture(program).outputs
    assert outputs == {"password": "[secret]", "derived": "[secret]", "bucket": "fraud-dev-model-registry-123456789012"}


def test_the_kubernetes_feature_store_config_is_not_printed() -> None:
    from mlplatform.plan.build import build_plan
    from tests.conftest import ROOT

    plan = build_plan(str(ROOT / "blueprints" / "recommender_k8s.py"), "dev")
    assert plan.outputs["features_feature_store_yaml"] == "[secret]"
    assert "[secret]" not in str(plan.outputs["registry_bucket"])
