"""A SageMaker-only opt-out on a Kubernetes endpoint: it would silently do nothing."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            image="ghcr.io/example/recs-ranker-server:1.4.2",
            min_instances=2,
            max_instances=4,
            opt_out=["network_isolation"],
        ),
    ],
)
