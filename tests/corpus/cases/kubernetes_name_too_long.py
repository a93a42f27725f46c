"""A Kubernetes endpoint name over the DNS-1123 label limit with the prefix."""

from mlplatform import ModelEndpoint, Platform

platform = Platform(
    name="recommendations-platform",
    team="personalization",
    components=[
        ModelEndpoint(
            name="candidate-generation-two-tower-ranker",
            model="recs-ranker",
            target="kubernetes",
            min_instances=2,
            max_instances=4,
        ),
    ],
)
