"""Serverless inference asked of a Kubernetes endpoint."""

from mlplatform import ModelEndpoint, Platform, Serverless

platform = Platform(
    name="recs",
    team="personalization",
    components=[
        ModelEndpoint(
            name="ranker",
            model="recs-ranker",
            target="kubernetes",
            serverless=Serverless(),
            min_instances=2,
            max_instances=4,
        ),
    ],
)
