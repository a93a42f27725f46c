"""An invalid field does not hide the same component's other problems: the model name is not a
valid name, and the canary rollout has no alarms to roll back on."""

from mlplatform import Canary, ModelEndpoint, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="Fraud_XGB", min_instances=2, max_instances=4, deployment=Canary()),
    ],
)
