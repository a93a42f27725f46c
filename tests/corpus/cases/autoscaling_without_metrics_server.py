"""CPU autoscaling on a cluster without metrics-server."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(
        workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"), metrics_server=False
    ),
    components=[
        ModelEndpoint(name="ranker", model="recs-ranker", target="kubernetes", min_instances=2, max_instances=4),
    ],
)
