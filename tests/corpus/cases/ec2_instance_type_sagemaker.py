"""A SageMaker (ml.*) instance type given to a node pool."""

from mlplatform import NodePool, Platform, TrainingCluster

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        TrainingCluster(name="train", existing_cluster="shared-eks", node_pools=[NodePool(name="cpu", instance_type="ml.m5.large")]),
    ],
)
