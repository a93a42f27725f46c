"""An AWS monitoring stack watching a Kubernetes endpoint."""

from mlplatform import ModelEndpoint, MonitoringStack, Platform

platform = Platform(
    name="recs",
    team="personalization",
    components=[
        ModelEndpoint(name="ranker", model="recs-ranker", target="kubernetes", min_instances=2, max_instances=4),
        MonitoringStack(name="monitoring", endpoints=["ranker"]),
    ],
)
