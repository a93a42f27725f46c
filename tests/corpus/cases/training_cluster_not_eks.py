"""kubernetes.training_cluster naming a cluster that is not an EKS cluster."""

from mlplatform import KubernetesCluster, Platform, TrainingCluster

platform = Platform(
    name="recs",
    team="personalization",
    kubernetes=KubernetesCluster(training_cluster="train"),
    components=[
        TrainingCluster(name="train", target="kubernetes"),
    ],
)
