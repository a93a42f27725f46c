"""An AWS monitoring stack watching a Kubernetes endpoint."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(name="ranker", model="recs-ranker", target="kubernetes", min_instances=2, max_instances=4),
        MonitoringStack(name="monitoring", endpoints=["ranker"]),
    ],
)
