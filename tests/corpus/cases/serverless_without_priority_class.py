"""A KServe Serverless endpoint on a stock Knative, which refuses priorityClassName."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, Platform, ServingMetrics

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            kserve=True,
            min_instances=2,
            max_instances=4,
            metrics=ServingMetrics(port=8080),
        ),
    ],
)
