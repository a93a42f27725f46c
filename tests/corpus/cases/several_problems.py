"""Several problems in one file: every one is reported, at once."""

from mlplatform import Canary, FeatureStore, ModelEndpoint, MonitoringStack, NodePool, Platform, TrainingCluster, per_env

platform = Platform(
    name="fraud",
    team="risk-ml",
    owner="alice",
    components=[
        FeatureStore(name="features", online_store="redis"),
        TrainingCluster(
            name="train",
            node_pools=[NodePool(name="gpu", instance_type="m6i.large", gpu=True, min_nodes=4, max_nodes=2)],
        ),
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=per_env(dev=1, qa=2), max_instances=4),
        ModelEndpoint(name="ranker", model="fraud-rank", instance_type="ml.m5.xlarg", deployment=Canary()),
        MonitoringStack(name="monitoring", endpoints=["scorer", "missing"], notify=["pager"]),
        MonitoringStack(name="alerts", endpoints=["scorer", "missing"]),
    ],
)
