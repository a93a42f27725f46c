"""Validation rules for TrainingPipelines, over a platform resolved for one environment.

Each rule yields (path, message) like the rules in `mlplatform.spec.rules`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlplatform import naming
from mlplatform.spec import schedules
from mlplatform.spec.feature_store import FeatureStore
from mlplatform.spec.model_endpoint import ModelEndpoint
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.spec.training_cluster import TrainingCluster
from mlplatform.spec.training_pipeline import TrainingPipeline

if TYPE_CHECKING:
    from mlplatform.spec.platform import Platform
    from mlplatform.spec.rules import Context

Finding = tuple[tuple[Any, ...], str]

# The runtimes a TrainingCluster installs (mlplatform.components.k8s.training_runtimes.RUNTIMES;
# a test keeps the two equal: the spec imports no components).
RUNTIMES = ("torch-distributed", "torch-single-node")


def pipelines(p: Platform) -> list[tuple[int, TrainingPipeline]]:
    return [(i, c) for i, c in enumerate(p.components) if isinstance(c, TrainingPipeline)]


def _at(i: int, *field: Any) -> tuple[Any, ...]:
    return ("components", i, *field)


def pipeline_references(p: Platform, ctx: Context) -> Iterator[Finding]:
    served = {e.model for e in p.of_kind(ModelEndpoint)}
    invalid_endpoints = bool(ctx.declared_names("ModelEndpoint") - {e.name for e in p.of_kind(ModelEndpoint)})
    stores = {f.name: f for f in p.of_kind(FeatureStore)}
    clusters = {c.name: c for c in p.of_kind(TrainingCluster)}
    trained: dict[str, str] = {}
    for i, t in pipelines(p):
        if t.model not in served and not invalid_endpoints:
            known = ", ".join(sorted(served)) or "none served"
            yield (
                _at(i, "model"),
                f"no ModelEndpoint serves model '{t.model}' (models: {known}); a pipeline registers versions "
                "of a served model, whose endpoints' gates promotion checks",
            )
        other = trained.setdefault(t.model, t.name)
        if other != t.name:
            yield _at(i, "model"), f"model '{t.model}' is already trained by TrainingPipeline '{other}'"
        store = t.train.feature_store
        if store is not None and store not in stores and store not in ctx.declared_names("FeatureStore"):
            known = ", ".join(sorted(stores)) or "none declared"
            yield _at(i, "train", "feature_store"), f"FeatureStore '{store}' does not exist (FeatureStores: {known})"
        cluster = t.training_cluster
        if cluster is not None and cluster not in clusters and cluster not in ctx.declared_names("TrainingCluster"):
            known = ", ".join(sorted(clusters)) or "none declared"
            yield (
                _at(i, "training_cluster"),
                f"TrainingCluster '{cluster}' does not exist (TrainingClusters: {known})",
            )


def pipeline_fields(p: Platform, ctx: Context) -> Iterator[Finding]:
    for i, t in pipelines(p):
        if t.target == "sagemaker":
            yield from _sagemaker_fields(i, t)
        else:
            yield from _kubernetes_fields(i, t)


def _sagemaker_fields(i: int, t: TrainingPipeline) -> Iterator[Finding]:
    if (t.train.data is None) == (t.train.feature_store is None):
        yield (
            _at(i, "train", "data"),
            "name the training data once: train=TrainStep(data='s3://bucket/prefix/') or "
            "TrainStep(feature_store='<FeatureStore name>', data_prefix='...')",
        )
    if t.train.data_prefix and t.train.feature_store is None:
        yield _at(i, "train", "data_prefix"), "data_prefix applies with feature_store only; put it in data"
    if t.evaluate is None:
        yield (
            _at(i, "evaluate"),
            "target='sagemaker' needs the evaluation step whose metrics the promotion gates read: "
            "evaluate=EvaluateStep(command=[...])",
        )
    if t.register is None:
        yield (
            _at(i, "register"),
            "target='sagemaker' needs the registration step: "
            "register=RegisterStep(image='<image with mlplatform>@sha256:...')",
        )
    for field in ("runtime", "command"):
        if field in t.train.model_fields_set:
            yield _at(i, "train", field), f"'{field}' applies to target='kubernetes' only; remove it"
    for field in ("training_cluster", "launcher_image"):
        if getattr(t, field) is not None:
            yield _at(i, field), f"{field} applies to target='kubernetes' only; remove it"


def _kubernetes_fields(i: int, t: TrainingPipeline) -> Iterator[Finding]:
    if t.training_cluster is None:
        yield _at(i, "training_cluster"), "target='kubernetes' trains on a TrainingCluster's runtime; name it"
    if t.train.runtime is not None and t.train.runtime not in RUNTIMES:
        known = ", ".join(RUNTIMES)
        yield _at(i, "train", "runtime"), f"'{t.train.runtime}' is not a runtime of the platform ({known})"
    given = t.triggers.model_fields_set
    for field in ("drift", "alarms", "new_data"):
        if field in given and getattr(t.triggers, field):
            yield (
                _at(i, "triggers", field),
                "alert-driven triggers are AWS-only for now: a target='kubernetes' pipeline runs on its schedule; "
                "use target='sagemaker' or remove the trigger",
            )
    for field in ("evaluate", "register"):
        if getattr(t, field) is not None:
            yield (
                _at(i, field),
                f"'{field}' runs on target='sagemaker' only; on Kubernetes the training job registers its "
                "result with `mlplatform register`",
            )
    if t.schedule is not None and schedules.kubernetes_schedule(t.schedule) is None:
        yield (
            _at(i, "schedule"),
            f"'{t.schedule}' has no Kubernetes CronJob equivalent; use a cron(...) without year, L, W or #, or a "
            "rate that divides the hour or day",
        )
    if t.schedule is None:
        yield _at(i, "schedule"), "a target='kubernetes' pipeline runs on its schedule only; give one"
    if t.launcher_image is None:
        yield (
            _at(i, "launcher_image"),
            "target='kubernetes' starts each run with a CronJob whose container has mlplatform installed: "
            "launcher_image='<image>@sha256:...'",
        )


def pipeline_triggers(p: Platform, ctx: Context) -> Iterator[Finding]:
    for i, t in pipelines(p):
        if not t.triggers.drift or t.target != "sagemaker":
            continue
        endpoints = {e.name for e in p.of_kind(ModelEndpoint) if e.model == t.model and e.target == "sagemaker"}
        monitors = [m for m in p.of_kind(MonitoringStack) if m.target == "aws" and endpoints & set(m.endpoints)]
        if not any(m.model_monitor for m in monitors):
            yield (
                _at(i, "triggers", "drift"),
                f"drift=True starts a run on Model Monitor violations, and no MonitoringStack runs Model Monitor on "
                f"an endpoint serving '{t.model}'; set model_monitor=True on the MonitoringStack that watches it",
            )


def pipeline_names(p: Platform, ctx: Context) -> Iterator[Finding]:
    names = naming.Names(p.name, ctx.env)
    for i, t in pipelines(p):
        checks = [naming.sagemaker_name_problem(names.pipeline(t.name), "SageMaker pipeline name")]
        checks += [naming.iam_role_problem(names.role(t.name, purpose)) for purpose in naming.PIPELINE_ROLES]
        checks.append(naming.dns_label_problem(names.pipeline(t.name)))
        for problem in checks:
            if problem:
                yield _at(i, "name"), f"{problem}; shorten the component or platform name"


RULES = (pipeline_references, pipeline_fields, pipeline_triggers, pipeline_names)
