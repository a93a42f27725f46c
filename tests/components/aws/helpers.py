"""Args for components built alone (not through the whole program)."""

from __future__ import annotations

import pulumi

from mlplatform import naming

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/mock-key"
REGISTRY = f"fraud-dev-model-registry-{ACCOUNT}"
REGISTRY_ARN = f"arn:aws:s3:::{REGISTRY}"
ACCESS_LOGS = f"fraud-dev-access-logs-{ACCOUNT}"
TAGS = {
    "mlplatform:platform": "fraud",
    "mlplatform:team": "risk-ml",
    "mlplatform:environment": "dev",
    "mlplatform:component": "test",
    "managed-by": "mlplatform",
}


def names(env: str = "dev") -> naming.Names:
    return naming.Names("fraud", env)


def out(value: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(value)
