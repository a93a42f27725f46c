"""A KServe Serverless endpoint on a port Knative's queue-proxy takes."""

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
            port=8012,
            min_instances=2,
            max_instances=4,
            metrics=ServingMetrics(port=8012),
        ),
    ],
)
