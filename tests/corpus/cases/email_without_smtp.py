"""An email notify target on a cluster whose Alertmanager has no SMTP relay declared."""

from mlplatform import Irsa, KubernetesCluster, ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer="oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")),
    components=[
        ModelEndpoint(name="ranker", model="recs-ranker", target="kubernetes", min_instances=2, max_instances=4),
        MonitoringStack(
            name="monitoring",
            target="kubernetes",
            endpoints=["ranker"],
            notify=["https://hooks.example.com/recs", "oncall@example.com"],
        ),
    ],
)
