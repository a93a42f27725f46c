"""kubernetes.training_cluster naming a component that does not exist."""

from mlplatform import KubernetesCluster, Platform, TrainingCluster

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(training_cluster="gpu-cluster"),
    components=[
        TrainingCluster(name="train", existing_cluster="shared-eks"),
    ],
)
