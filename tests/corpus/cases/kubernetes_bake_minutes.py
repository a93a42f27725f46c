"""A bake time on a Kubernetes rollout, which is never baked."""

from mlplatform import AllAtOnce, Irsa, KubernetesCluster, ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            min_instances=2,
            max_instances=4,
            deployment=AllAtOnce(bake_minutes=20),
        ),
    ],
)
