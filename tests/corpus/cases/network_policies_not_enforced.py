"""allowed_callers on a cluster that does not enforce NetworkPolicies."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(
        workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"), network_policies=False
    ),
    components=[
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            min_instances=2,
            max_instances=4,
            allowed_callers=["frontend"],
        ),
    ],
)
