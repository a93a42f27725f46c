"""Unknown field on a nested declaration (a node pool)."""

from mlplatform import NodePool, Platform, TrainingCluster

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        TrainingCluster(
            name="train", existing_cluster="shared-eks",
            node_pools=[NodePool(name="cpu", instance_type="m6i.large", disk_size=200)],
        ),
    ],
)
