"""Recommendations on an existing Kubernetes cluster: KServe and plain serving, Redis features,
Prometheus alerting. The cluster comes from the stack config (mlplatform:kubeContext).
"""

from mlplatform import (
    Canary,
    FeatureStore,
    FeatureView,
    MetricGates,
    ModelEndpoint,
    MonitoringStack,
    Platform,
    Quota,
    TrainingCluster,
    per_env,
)

platform = Platform(
    name="recs",
    team="personalization",
    region="eu-west-1",
    environments=["dev", "staging", "prod"],
    components=[
        FeatureStore(
            name="features",
            target="kubernetes",
            online_store="redis",
            offline_retention_days=per_env(dev=14, default=180),
            redis_storage_gb=per_env(dev=5, default=50),
            redis_memory=per_env(dev="1Gi", default="4Gi"),
            feature_views=[FeatureView(name="user_profile"), FeatureView(name="item_popularity")],
        ),
        TrainingCluster(
            name="train",
            target="kubernetes",
            quota=Quota(gpus=per_env(dev=1, default=8), cpu=per_env(dev=16, default=96), memory_gb=384),
        ),
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            kserve=True,
            image="ghcr.io/example/recs-ranker-server:1.4.2",
            min_instances=per_env(dev=1, default=3),
            max_instances=per_env(dev=2, default=12),
            cpu="2",
            memory="4Gi",
            deployment=Canary(percent=per_env(prod=5, default=20), bake_minutes=15),
            gates=MetricGates(minimum={"ndcg_at_10": 0.42}),
        ),
        ModelEndpoint(
            name="embedder",
            model="recs-embedder",
            target="kubernetes",
            image="ghcr.io/example/recs-embedder:2.0.1",
            min_instances=per_env(dev=1, default=2),
            max_instances=per_env(dev=2, default=6),
            cpu="1",
            memory="2Gi",
            allowed_callers=["recs-frontend"],
        ),
        MonitoringStack(
            name="monitoring",
            target="kubernetes",
            endpoints=["ranker", "embedder"],
            notify=["recs-oncall@example.com", "https://hooks.example.com/alerts/recs"],
            latency_p99_ms=150,
            error_rate_percent=0.5,
        ),
    ],
)
