"""allowed_callers on a KServe Serverless endpoint, which a NetworkPolicy cannot enforce there."""

from mlplatform import Irsa, KServe, KubernetesCluster, ModelEndpoint, Platform, ServingMetrics

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(
        workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
        kserve=KServe(knative_features=["kubernetes.podspec-priorityclassname"]),
    ),
    components=[
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            kserve=True,
            min_instances=2,
            max_instances=4,
            metrics=ServingMetrics(port=8080),
            allowed_callers=["frontend"],
        ),
    ],
)
