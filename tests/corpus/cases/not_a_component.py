"""A node pool placed directly in the platform's components."""

from mlplatform import NodePool, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        NodePool(name="gpu", instance_type="g5.2xlarge", gpu=True),
    ],
)
