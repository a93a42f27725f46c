"""A waiver whose rule id is not a guardrail rule id, with too short a reason."""

from mlplatform import Platform, Waiver

platform = Platform(
    name="fraud",
    team="risk-ml",
    waivers=[Waiver(rule="s3-encryption", reason="legacy")],
)
