"""A node pool instance type that is not an EC2 type."""

from mlplatform import NodePool, Platform, TrainingCluster

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        TrainingCluster(name="train", existing_cluster="shared-eks", node_pools=[NodePool(name="gpu", instance_type="g5.2xlarg", gpu=True)]),
    ],
)
