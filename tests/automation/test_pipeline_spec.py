"""TrainingPipeline in the blueprint language: schedules, triggers, steps, each problem located."""

from __future__ import annotations

from typing import Any

import pytest

from mlplatform import per_env
from mlplatform.spec import pipeline_rules, schedules
from mlplatform.spec.training_pipeline import TrainingPipeline
from mlplatform.spec.validate import validate_raw

IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/train@sha256:" + "a" * 64
TOOLS = "111122223333.dkr.ecr.us-east-1.amazonaws.com/mlplatform@sha256:" + "b" * 64


def _endpoint() -> dict[str, Any]:
    return {"kind": "ModelEndpoint", "name": "scorer", "model": "fraud-xgb", "min_instances": 2, "max_instances": 4}


def _monitor(**fields: Any) -> dict[str, Any]:
    return {"kind": "MonitoringStack", "name": "monitoring", "endpoints": ["scorer"], **fields}


def _pipeline(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "TrainingPipeline",
        "name": "retrain",
        "model": "fraud-xgb",
        "train": {"image": IMAGE, "data": "s3://fraud-data/transactions/"},
        "evaluate": {"command": ["python3", "evaluate.py"]},
        "register": {"image": TOOLS},
        **fields,
    }


def _messages(*components: dict[str, Any], envs: list[str] | None = None) -> list[str]:
    raw = {"name": "fraud", "team": "risk-ml", "components": [_endpoint(), *components]}
    return [str(p) for p in validate_raw(raw, "bp.py", {}, envs).problems]


def test_a_sagemaker_pipeline_with_schedule_and_drift_is_valid() -> None:
    raw = {
        "name": "fraud",
        "team": "risk-ml",
        "components": [
            _endpoint(),
            _monitor(model_monitor=True),
            _pipeline(schedule=per_env(prod="cron(0 3 ? * MON *)", default=None), triggers={"drift": True}),
        ],
    }
    result = validate_raw(raw, "bp.py")
    assert result.problems == []
    pipeline = result.specs["prod"].component("retrain")
    assert isinstance(pipeline, TrainingPipeline)
    assert pipeline.trigger_names() == ["schedule", "drift"]
    assert result.specs["dev"].component("retrain").trigger_names() == ["drift"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("rate(7 days)", None),
        ("rate(1 day)", None),
        ("cron(0 3 ? * MON *)", None),
        ("cron(15 10 1 * ? 2027)", None),
        ("rate(1 days)", "'rate(1 days)': EventBridge Scheduler wants 'day' with the value 1; write 'rate(1 day)'"),
        ("rate(2 hour)", "'rate(2 hour)': EventBridge Scheduler wants 'hours' with the value 2; write 'rate(2 hours)'"),
        ("rate(0 minutes)", "'rate(0 minutes)': the value must be a positive whole number"),
        (
            "rate(1 week)",
            "'rate(1 week)' is not rate(value unit) with unit minute(s), hour(s) or day(s); e.g. 'rate(7 days)'",
        ),
        (
            "cron(0 3 * * MON *)",
            "'cron(0 3 * * MON *)': exactly one of day-of-month ('*') and day-of-week ('MON') must be '?'; "
            + schedules.EXAMPLES,
        ),
        (
            "cron(0 3 * * ?)",
            "'cron(0 3 * * ?)' has 5 fields; EventBridge Scheduler's cron has 6: minutes hours day-of-month month "
            "day-of-week year; " + schedules.EXAMPLES,
        ),
        ("cron(0 25 ? * MON *)", "'cron(0 25 ? * MON *)': hours 25 is outside 0-23"),
        (
            "at(2026-12-01T03:00:00)",
            "'at(2026-12-01T03:00:00)' is a one-time schedule; training repeats: " + schedules.EXAMPLES,
        ),
        ("weekly", "'weekly' is neither rate(...) nor cron(...); " + schedules.EXAMPLES),
    ],
)
def test_schedule_expressions(expression: str, problem: str | None) -> None:
    # EventBridge Scheduler User Guide, "Schedule types on EventBridge Scheduler": rate and cron formats.
    assert schedules.problem(expression) == problem


def test_a_bad_schedule_names_the_component_field_and_environment() -> None:
    assert _messages(_pipeline(schedule=per_env(prod="rate(1 days)", default=None))) == [
        "bp.py: [prod] TrainingPipeline 'retrain', field 'schedule': 'rate(1 days)': EventBridge Scheduler wants "
        "'day' with the value 1; write 'rate(1 day)'"
    ]


@pytest.mark.parametrize(
    ("expression", "cron"),
    [
        ("rate(15 minutes)", "*/15 * * * *"),
        ("rate(6 hours)", "0 */6 * * *"),
        ("rate(1 day)", "0 0 * * *"),
        ("cron(0 3 ? * 2 *)", "0 3 * * 1"),  # EventBridge counts days of the week from 1 (Sunday)
        ("cron(0 3 ? * MON *)", "0 3 * * MON"),
        ("rate(7 days)", None),
        ("cron(0 3 L * ? *)", None),
    ],
)
def test_kubernetes_equivalent_schedules(expression: str, cron: str | None) -> None:
    assert schedules.kubernetes_schedule(expression) == cron


def test_model_must_be_served_and_steps_present() -> None:
    assert _messages(_pipeline(model="other", evaluate=None, register=None)) == [
        "bp.py: TrainingPipeline 'retrain', field 'evaluate': target='sagemaker' needs the evaluation step whose "
        "metrics the promotion gates read: evaluate=EvaluateStep(command=[...])",
        "bp.py: TrainingPipeline 'retrain', field 'model': no ModelEndpoint serves model 'other' (models: fraud-xgb); "
        "a pipeline registers versions of a served model, whose endpoints' gates promotion checks",
        "bp.py: TrainingPipeline 'retrain', field 'register': target='sagemaker' needs the registration step: "
        "register=RegisterStep(image='<image with mlplatform>@sha256:...')",
    ]


def test_images_must_be_pinned_by_digest() -> None:
    assert _messages(_pipeline(train={"image": "repo/train:1.2", "data": "s3://fraud-data/x/"})) == [
        "bp.py: TrainingPipeline 'retrain', field 'train.image': 'repo/train:1.2' is not pinned by digest; write "
        "repo/train@sha256:<digest>"
    ]


def test_training_data_named_once() -> None:
    both = {"image": IMAGE, "data": "s3://fraud-data/x/", "feature_store": "features"}
    assert _messages(_pipeline(train=both)) == [
        "bp.py: TrainingPipeline 'retrain', field 'train.data': name the training data once: "
        "train=TrainStep(data='s3://bucket/prefix/') or TrainStep(feature_store='<FeatureStore name>', "
        "data_prefix='...')",
        "bp.py: TrainingPipeline 'retrain', field 'train.feature_store': FeatureStore 'features' does not exist "
        "(FeatureStores: none declared)",
    ]


def test_drift_needs_model_monitor_on_the_models_endpoint() -> None:
    assert _messages(_monitor(), _pipeline(triggers={"drift": True})) == [
        "bp.py: TrainingPipeline 'retrain', field 'triggers.drift': drift=True starts a run on Model Monitor "
        "violations, and no MonitoringStack runs Model Monitor on an endpoint serving 'fraud-xgb'; set "
        "model_monitor=True on the MonitoringStack that watches it"
    ]


def test_alarm_and_new_data_triggers() -> None:
    assert (
        _messages(_pipeline(triggers={"alarms": ["fraud-prod-scorer-errors"], "new_data": "s3://fraud-data/new/"}))
        == []
    )
    assert _messages(_pipeline(triggers={"new_data": "https://example.com/x"})) == [
        "bp.py: TrainingPipeline 'retrain', field 'triggers.new_data': 'https://example.com/x' is not an S3 "
        "location; write s3://bucket/prefix/"
    ]
    assert _messages(_pipeline(triggers={"alarms": [" padded"]})) == [
        "bp.py: TrainingPipeline 'retrain', field 'triggers.alarms': ' padded' is not a CloudWatch alarm name "
        "(1-255 characters, no outer spaces)"
    ]


def test_kubernetes_pipelines_run_on_a_schedule_only() -> None:
    cluster = {"kind": "TrainingCluster", "name": "train", "target": "kubernetes"}
    pipeline = _pipeline(
        target="kubernetes",
        training_cluster="train",
        schedule="rate(7 days)",
        triggers={"drift": True},
        train={"image": IMAGE, "runtime": "torch-single-node", "command": ["python3", "train.py"]},
    )
    assert _messages(cluster, pipeline) == [
        "bp.py: TrainingPipeline 'retrain', field 'evaluate': 'evaluate' runs on target='sagemaker' only; on "
        "Kubernetes the training job registers its result with `mlplatform register`",
        "bp.py: TrainingPipeline 'retrain', field 'launcher_image': target='kubernetes' starts each run with a "
        "CronJob whose container has mlplatform installed: launcher_image='<image>@sha256:...'",
        "bp.py: TrainingPipeline 'retrain', field 'register': 'register' runs on target='sagemaker' only; on "
        "Kubernetes the training job registers its result with `mlplatform register`",
        "bp.py: TrainingPipeline 'retrain', field 'schedule': 'rate(7 days)' has no Kubernetes CronJob equivalent; "
        "use a cron(...) without year, L, W or #, or a rate that divides the hour or day",
        "bp.py: TrainingPipeline 'retrain', field 'triggers.drift': alert-driven triggers are AWS-only for now: a "
        "target='kubernetes' pipeline runs on its schedule; use target='sagemaker' or remove the trigger",
    ]


def test_unknown_training_cluster_and_runtime() -> None:
    pipeline = _pipeline(
        target="kubernetes",
        training_cluster="gpu",
        schedule="rate(1 day)",
        launcher_image=TOOLS,
        evaluate=None,
        register=None,
        train={"image": IMAGE, "runtime": "mpi"},
    )
    assert _messages(pipeline) == [
        "bp.py: TrainingPipeline 'retrain', field 'train.runtime': 'mpi' is not a runtime of the platform "
        "(torch-distributed, torch-single-node)",
        "bp.py: TrainingPipeline 'retrain', field 'training_cluster': TrainingCluster 'gpu' does not exist "
        "(TrainingClusters: none declared)",
    ]


def test_runtimes_are_the_clusters() -> None:
    from mlplatform.components.k8s import training_runtimes

    assert pipeline_rules.RUNTIMES == training_runtimes.RUNTIMES


def test_a_model_is_trained_by_one_pipeline() -> None:
    assert _messages(_pipeline(), _pipeline(name="again")) == [
        "bp.py: TrainingPipeline 'again', field 'model': model 'fraud-xgb' is already trained by TrainingPipeline "
        "'retrain'"
    ]
