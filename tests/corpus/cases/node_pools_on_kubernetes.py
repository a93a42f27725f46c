"""Node pools on a training cluster that uses an existing cluster."""

from mlplatform import NodePool, Platform, TrainingCluster

platform = Platform(
    name="recs",
    team="personalization",
    components=[
        TrainingCluster(name="train", target="kubernetes", node_pools=[NodePool(name="cpu", instance_type="m6i.large")]),
    ],
)
