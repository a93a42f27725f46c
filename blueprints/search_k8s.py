"""Semantic search on existing EKS clusters (one per environment): a KServe RawDeployment retriever
on a GPU and a plain Deployment query encoder, pods getting AWS credentials through EKS Pod
Identity, Redis features, alerts to a webhook through a self-managed kube-prometheus-stack.
The cluster comes from the stack config (kubernetes:context); what it runs is declared below.
"""

from mlplatform import (
    FeatureStore,
    FeatureView,
    KServe,
    KubernetesCluster,
    MetricGates,
    ModelEndpoint,
    MonitoringStack,
    Platform,
    PodIdentity,
    Prometheus,
    Quota,
    TrainingCluster,
    per_env,
)

platform = Platform(
    name="search",
    team="search-relevance",
    region="us-west-2",
    environments=["dev", "prod"],
    kubernetes=KubernetesCluster(
        # KServe 0.16 without Knative: InferenceServices are plain Deployments, Services and HPAs. The
        # cluster's ClusterStorageContainer gives the storage initializer a restricted securityContext
        # (as Kubeflow's manifests patch it), so every namespace enforces Pod Security restricted.
        kserve=KServe(version="0.16", mode="RawDeployment", restricted_storage_initializer=True),
        # kube-prometheus-stack installed as Helm release "prom" in "observability". Alertmanager sends
        # no email here: alerts go to the team's webhook.
        prometheus=Prometheus(namespace="observability", selector_labels={"release": "prom"}),
        # A StorageClass of the EBS CSI driver (gp3, encrypted) that the cluster's admins created.
        storage_class="ebs-gp3",
        # The eks-pod-identity-agent add-on runs on each environment's cluster.
        workload_identity=PodIdentity(cluster_name=per_env(dev="search-dev", prod="search-prod")),
    ),
    components=[
        FeatureStore(
            name="signals",
            target="kubernetes",
            online_store="redis",
            offline_retention_days=per_env(dev=7, default=90),
            online_ttl_days=30,
            redis_storage_gb=per_env(dev=5, default=20),
            redis_memory=per_env(dev="512Mi", default="2Gi"),
            feature_views=[FeatureView(name="query_stats"), FeatureView(name="doc_freshness")],
        ),
        TrainingCluster(
            name="train",
            target="kubernetes",
            quota=Quota(gpus=per_env(dev=1, default=4), cpu=per_env(dev=8, default=48), memory_gb=192),
        ),
        ModelEndpoint(
            name="retriever",
            model="search-retriever",
            target="kubernetes",
            kserve=True,
            image="ghcr.io/example/search-retriever@sha256:"
            "7c1f0e9d4b2a6c8e0f3a5b7d9e1c3a5f7b9d1e3c5a7f9b1d3e5c7a9f1b3d5e7c",
            min_instances=per_env(dev=1, default=2),
            max_instances=per_env(dev=1, default=6),
            cpu="4",
            memory="16Gi",
            gpus=1,
            # MLServer's metrics port (8082) beside the serving port: RawDeployment pods may declare both.
            gates=MetricGates(minimum={"recall_at_100": 0.9}),
            allowed_callers=["search-api"],
        ),
        ModelEndpoint(
            name="encoder",
            model="search-encoder",
            target="kubernetes",
            image="ghcr.io/example/search-encoder@sha256:"
            "3a9e5c1b7d3f9a5c1e7b3d9f5a1c7e3b9d5f1a7c3e9b5d1f7a3c9e5b1d7f3a9e",
            min_instances=per_env(dev=1, default=3),
            max_instances=per_env(dev=2, default=10),
            cpu="2",
            memory="4Gi",
            allowed_callers=["search-api"],
        ),
        MonitoringStack(
            name="monitoring",
            target="kubernetes",
            endpoints=["retriever", "encoder"],
            notify=["https://hooks.example.com/alerts/search"],
            latency_p99_ms=per_env(dev=400, default=250),
            error_rate_percent=1.0,
        ),
    ],
)
