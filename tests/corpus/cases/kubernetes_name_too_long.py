"""A Kubernetes endpoint name over the DNS-1123 label limit with the prefix (and its IAM role name over 64)."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, Platform

platform = Platform(
    name="recommendations-platform",
    team="personalization",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(
            name="candidate-generation-two-tower-ranker",
            model="recs-ranker",
            target="kubernetes",
            min_instances=2,
            max_instances=4,
        ),
    ],
)
