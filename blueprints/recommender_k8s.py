"""Recommendations on existing EKS clusters (one per environment): a KServe Serverless ranker and
a plain Deployment embedder, Redis features, alerts through kube-prometheus-stack's Alertmanager.
The cluster comes from the stack config (mlplatform:kubeContext); what it runs is declared below.
"""

from mlplatform import (
    DeclaredKarpenter,
    ExperimentTracker,
    FeatureStore,
    FeatureView,
    Irsa,
    KServe,
    KubernetesCluster,
    MetricGates,
    ModelEndpoint,
    MonitoringStack,
    Network,
    NodePool,
    Platform,
    Prometheus,
    Quota,
    ServingMetrics,
    Smtp,
    TrainingCluster,
    TrainingEquipment,
    per_env,
)

platform = Platform(
    name="recs",
    team="personalization",
    region="eu-west-1",
    environments=["dev", "staging", "prod"],
    # The cluster's VPC (the tracking database lives there).
    network=Network(
        vpc_id="vpc-0a1b2c3d4e5f60718", private_subnet_ids=["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
    ),
    kubernetes=KubernetesCluster(
        # KServe 0.15 on Knative with Istio; config-features enables priorityClassName for serving pods.
        kserve=KServe(version="0.15", mode="Serverless", knative_features=["kubernetes.podspec-priorityclassname"]),
        # Karpenter runs on each cluster (its getting-started setup: node role, subnets and security
        # groups tagged karpenter.sh/discovery=<cluster>); the platform installs the rest for training.
        training=TrainingEquipment(
            karpenter=DeclaredKarpenter(
                node_role=per_env(
                    dev="KarpenterNodeRole-recs-dev",
                    staging="KarpenterNodeRole-recs-staging",
                    prod="KarpenterNodeRole-recs-prod",
                ),
                discovery_tag=per_env(dev="recs-dev", staging="recs-staging", prod="recs-prod"),
            )
        ),
        # kube-prometheus-stack, Helm release "kube-prometheus-stack" in "monitoring"; mail through the
        # company relay, which accepts the cluster's mail without a login.
        prometheus=Prometheus(
            namespace="monitoring",
            selector_labels={"release": "kube-prometheus-stack"},
            smtp=Smtp(smarthost="smtp-relay.example.com:587", from_address="alertmanager@recs.example.com"),
        ),
        storage_class="gp3",
        # The External Secrets Operator runs on the cluster: it syncs the tracking database's password.
        external_secrets=True,
        # Each environment's cluster has its own IAM OIDC provider.
        workload_identity=Irsa(
            oidc_issuer=per_env(
                dev="oidc.eks.eu-west-1.amazonaws.com/id/3F1D0C2B9A8E7D6C5B4A392817065E4D",
                staging="oidc.eks.eu-west-1.amazonaws.com/id/8B2E4F6A1C3D5E7F9A0B2C4D6E8F0A1B",
                prod="oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
            )
        ),
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
            # Nodes from zero, launched by the cluster's Karpenter for pending training pods.
            node_pools=[
                NodePool(name="cpu", instance_type="m6i.2xlarge", min_nodes=0, max_nodes=per_env(dev=2, default=6)),
                NodePool(
                    name="gpu",
                    instance_type="g5.2xlarge",
                    gpu=True,
                    min_nodes=0,
                    max_nodes=per_env(dev=1, default=8),
                    spot=per_env(dev=True, default=False),
                )
            ],
            quota=Quota(gpus=per_env(dev=1, default=8), cpu=per_env(dev=16, default=96), memory_gb=384),
        ),
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            kserve=True,
            # Pinned by digest: a tag can be moved after approval (`mlplatform promote` records this one).
            image="ghcr.io/example/recs-ranker-server@sha256:"
            "e5bc8ee8c48ae8f2b9c5b58b1f6a5dff1132702360f1720a31d432f3c9167f8b",
            min_instances=per_env(dev=1, default=3),
            max_instances=per_env(dev=2, default=12),
            cpu="2",
            memory="4Gi",
            # Knative allows one container port: the ranker serves MLServer's REST metrics on it.
            metrics=ServingMetrics(port=8080),
            gates=MetricGates(minimum={"ndcg_at_10": 0.42}),
        ),
        ModelEndpoint(
            name="embedder",
            model="recs-embedder",
            target="kubernetes",
            image="ghcr.io/example/recs-embedder@sha256:"
            "5e3353aad5986468cea4a94b504631f46532eb63da17a35d954c5b09c85ec96e",
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
