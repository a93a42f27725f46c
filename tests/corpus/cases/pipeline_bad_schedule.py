"""A training pipeline whose prod schedule is not an EventBridge Scheduler expression."""

from mlplatform import (
    EvaluateStep,
    ModelEndpoint,
    Platform,
    RegisterStep,
    TrainingPipeline,
    TrainStep,
    per_env,
)

IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/train@sha256:" + "a" * 64

platform = Platform(
    name="fraud",
    team="risk-ml",
    components=[
        ModelEndpoint(name="scorer", model="fraud-xgb", min_instances=2, max_instances=4),
        TrainingPipeline(
            name="retrain",
            model="fraud-xgb",
            schedule=per_env(prod="cron(0 3 * * MON)", default=None),
            train=TrainStep(image=IMAGE, data="s3://fraud-data/transactions/"),
            evaluate=EvaluateStep(command=["python3", "evaluate.py"]),
            register=RegisterStep(image=IMAGE),
        ),
    ],
)
