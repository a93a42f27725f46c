"""Serverless inference asked of a Kubernetes endpoint."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, Platform, Serverless

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            serverless=Serverless(),
            min_instances=2,
            max_instances=4,
        ),
    ],
)
