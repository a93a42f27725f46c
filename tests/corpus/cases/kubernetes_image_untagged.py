"""A Kubernetes endpoint whose image has no tag (which means latest), behind a registry port."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="recs-ml",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(
            name="ranker", model="recs-ranker", target="kubernetes", image="registry.example.com:5000/ranker",
            min_instances=2, max_instances=4,
        ),
    ],
)
