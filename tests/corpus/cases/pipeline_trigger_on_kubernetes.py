"""A Kubernetes training pipeline with an alert-driven trigger (AWS-only for now)."""

from mlplatform import ModelEndpoint, Platform, TrainingCluster, TrainingPipeline, TrainStep, Triggers

IMAGE = "ghcr.io/example/train@sha256:" + "a" * 64

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        TrainingCluster(name="train", target="kubernetes"),
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=2, max_instances=4),
        TrainingPipeline(
            name="retrain",
            model="fraud-xgb",
            target="kubernetes",
            training_cluster="train",
            schedule="rate(1 day)",
            launcher_image=IMAGE,
            triggers=Triggers(alarms=["fraud-prod-scorer-errors"]),
            train=TrainStep(image=IMAGE),
        ),
    ],
)
