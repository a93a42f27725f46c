"""A KServe deployment mode that is not one of KServe's."""

from mlplatform import Irsa, KServe, KubernetesCluster, Platform

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(
        workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"), kserve=KServe(mode="Raw")
    ),
)
