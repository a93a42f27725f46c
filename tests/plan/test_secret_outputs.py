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
