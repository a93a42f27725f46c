"""A Kubernetes endpoint on a cluster with no declared way to get AWS credentials."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="personalization",
    components=[
        ModelEndpoint(name="ranker", model="recs-ranker", target="kubernetes", min_instances=2, max_instances=4),
    ],
)
