"""A created EKS cluster with a private endpoint and no way for `pulumi up` to reach its API."""

from mlplatform import NodePool, Platform, TrainingCluster

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        TrainingCluster(name="train", node_pools=[NodePool(name="cpu", instance_type="m6i.large")]),
    ],
)
