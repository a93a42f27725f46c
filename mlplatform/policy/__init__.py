"""Guardrails: rules over planned resources, shared by `mlplatform plan` and the CrossGuard pack.

Each rule has an id (MLP-<AREA>-NNN), a severity, a message that says the fix, and the Checkov
id where one exists. Importing this package registers every rule in `RULES`.
"""

from mlplatform.policy import data, eks, iam, kubernetes, s3, sagemaker
from mlplatform.policy.evaluate import ComponentIndex, Outcome, check_resources, evaluate
from mlplatform.policy.rules import RULES, Context, Rule, is_production

__all__ = [
    "RULES",
    "ComponentIndex",
    "Context",
    "Outcome",
    "Rule",
    "check_resources",
    "data",
    "eks",
    "evaluate",
    "iam",
    "is_production",
    "kubernetes",
    "s3",
    "sagemaker",
]
