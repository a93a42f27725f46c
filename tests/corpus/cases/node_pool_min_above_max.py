"""A node pool with more minimum than maximum nodes, in dev only."""

from mlplatform import NodePool, Platform, TrainingCluster, per_env

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        TrainingCluster(
            name="train", existing_cluster="shared-eks",
            node_pools=[NodePool(name="cpu", instance_type="m6i.large", min_nodes=3, max_nodes=per_env(dev=2, default=8))],
        ),
    ],
)
