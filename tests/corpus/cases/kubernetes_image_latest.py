"""A Kubernetes endpoint whose image is tagged latest: plan's guardrail MLP-K8S-010 rejects it,
so validate does too."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="recs-ml",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(
            name="ranker", model="recs-ranker", target="kubernetes", image="ghcr.io/example/ranker:latest",
            min_instances=2, max_instances=4,
        ),
    ],
)
