"""A Kubernetes endpoint whose image has no tag (which means latest), behind a registry port."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="recs-ml",
    components=[
        ModelEndpoint(
            name="ranker", model="recs-ranker", target="kubernetes", image="registry.example.com:5000/ranker",
            min_instances=2, max_instances=4,
        ),
    ],
)
