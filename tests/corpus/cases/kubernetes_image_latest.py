"""A Kubernetes endpoint whose image is tagged latest: plan's guardrail MLP-K8S-010 rejects it,
so validate does too."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="recs",
    team="recs-ml",
    components=[
        ModelEndpoint(
            name="ranker", model="recs-ranker", target="kubernetes", image="ghcr.io/example/ranker:latest",
            min_instances=2, max_instances=4,
        ),
    ],
)
