"""A GPU node pool on an instance type without GPUs."""

from mlplatform import NodePool, Platform, TrainingCluster

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        TrainingCluster(name="train", existing_cluster="shared-eks", node_pools=[NodePool(name="gpu", instance_type="m7g.2xlarge", gpu=True)]),
    ],
)
