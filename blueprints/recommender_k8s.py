"""Recommendations on an existing Kubernetes cluster: KServe and plain serving, Redis features,
Prometheus alerting. The cluster comes from the stack config (mlplatform:kubeContext).
"""

from mlplatform import (
    Canary,
    ExperimentTracker,
    FeatureStore,
    FeatureView,
    Irsa,
    KubernetesCluster,
    MetricGates,
    ModelEndpoint,
    MonitoringStack,
    Network,
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
    # The cluster's VPC (the tracking database lives there) and how its pods get AWS credentials.
    network=Network(
        vpc_id="vpc-0a1b2c3d4e5f60718", private_subnet_ids=["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
    ),
    kubernetes=KubernetesCluster(
        workload_identity=Irsa(oidc_issuer="oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE")
    ),
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
        # MLflow from its Helm chart, on RDS PostgreSQL, basic auth on; the training jobs get its URI and login.
        ExperimentTracker(
            name="tracking",
            backend="mlflow",
            target="kubernetes",
            database="rds",
            database_instance_class=per_env(dev="db.t4g.small", default="db.m7g.large"),
            database_multi_az=per_env(prod=True, default=False),
            replicas=per_env(dev=1, default=2),
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
