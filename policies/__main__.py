"""CrossGuard policy pack: the mlplatform guardrails during `pulumi preview`/`pulumi up`.

    pulumi preview -s prod --policy-pack policies

A thin wrapper: the rules live in mlplatform.policy, shared with `mlplatform plan`. Error rules
are mandatory, warning rules advisory; outside production, make every rule advisory with
`--policy-pack-config policies/advisory.json`. Constructing the pack starts the policy server.
"""

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

from mlplatform.policy.crossguard import PACK_NAME, policies

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(
        ResourceValidationPolicy,
        StackValidationPolicy,
        EnforcementLevel.MANDATORY,
        EnforcementLevel.ADVISORY,
    ),
)
