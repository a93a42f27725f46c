"""The names a blueprint file calls: `Platform(...)`, `ModelEndpoint(...)`, `Canary(...)`...

Each call records its keyword arguments and the line it was made on, without validating.
Validation happens when the blueprint is loaded, over the whole tree at once, so every problem
is reported together and each one points at the line that declared it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mlplatform.spec import (
    cluster,
    experiment_tracker,
    feature_store,
    model_endpoint,
    monitoring,
    network,
    platform,
    training_cluster,
    training_equipment,
    training_pipeline,
)
from mlplatform.spec.base import SpecModel
from mlplatform.spec.per_env import PerEnv
from mlplatform.spec.source import Where, caller, line_of

# The tags that select a model inside a discriminated union; a declaration always carries them.
_TAGS = ("kind", "strategy")


class Declaration:
    """Keyword arguments of one blueprint call and where it was made."""

    model: ClassVar[type[SpecModel]]

    def __init__(self, *args: Any, **fields: Any) -> None:
        if args:
            raise TypeError(f"{type(self).__name__}(...) takes keyword arguments only, e.g. name=...")
        self.fields = fields
        self._where: Where | None = caller()
        self._line = 0
        self.file = self._where[0].co_filename

    @property
    def line(self) -> int:
        """Source line of the call that made this declaration."""
        if self._where is not None:
            self._line, self._where = line_of(self._where), None
        return self._line

    @property
    def kind(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return f"{self.kind}({args})"

    def to_raw(self, path: tuple[Any, ...] = (), lines: dict[tuple[Any, ...], int] | None = None) -> Any:
        """Plain data for validation; `lines` receives the source line of every declaration."""
        if lines is not None:
            lines[path] = self.line
        raw: dict[str, Any] = {}
        for tag in _TAGS:
            field = self.model.model_fields.get(tag)
            if field is not None:
                raw[tag] = field.default
        for key, value in self.fields.items():
            raw[key] = to_raw(value, (*path, key), lines)
        return raw


def to_raw(value: Any, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int] | None) -> Any:
    if isinstance(value, Declaration):
        return value.to_raw(path, lines)
    if isinstance(value, PerEnv):
        if lines is not None:
            lines[path] = value.line
        values = {k: to_raw(v, path, None) for k, v in value.values.items()}
        default = to_raw(value.default, path, None) if value.has_default else value.default
        return PerEnv(values, default, value.line)
    if isinstance(value, list | tuple):
        return [to_raw(v, (*path, i), lines) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: to_raw(v, (*path, k), lines) for k, v in value.items()}
    return value


def _declaration(model: type[SpecModel]) -> type[Declaration]:
    doc = model.__doc__ or f"Declares a {model.__name__}."
    return type(model.__name__, (Declaration,), {"model": model, "__doc__": doc, "__module__": "mlplatform"})


Platform = _declaration(platform.Platform)
Waiver = _declaration(platform.Waiver)
KubernetesCluster = _declaration(platform.KubernetesCluster)
KServe = _declaration(cluster.KServe)
Prometheus = _declaration(cluster.Prometheus)
Smtp = _declaration(cluster.Smtp)
Irsa = _declaration(cluster.Irsa)
PodIdentity = _declaration(cluster.PodIdentity)
TrainingEquipment = _declaration(training_equipment.TrainingEquipment)
DeclaredKarpenter = _declaration(training_equipment.DeclaredKarpenter)
SystemNodes = _declaration(training_equipment.SystemNodes)
Network = _declaration(network.Network)
FeatureStore = _declaration(feature_store.FeatureStore)
FeatureGroup = _declaration(feature_store.FeatureGroup)
Feature = _declaration(feature_store.Feature)
FeatureView = _declaration(feature_store.FeatureView)
TrainingCluster = _declaration(training_cluster.TrainingCluster)
NodePool = _declaration(training_cluster.NodePool)
Quota = _declaration(training_cluster.Quota)
ApiAccess = _declaration(training_cluster.ApiAccess)
ModelEndpoint = _declaration(model_endpoint.ModelEndpoint)
AllAtOnce = _declaration(model_endpoint.AllAtOnce)
Canary = _declaration(model_endpoint.Canary)
Linear = _declaration(model_endpoint.Linear)
Serverless = _declaration(model_endpoint.Serverless)
MetricGates = _declaration(model_endpoint.MetricGates)
ServingMetrics = _declaration(model_endpoint.ServingMetrics)
MonitoringStack = _declaration(monitoring.MonitoringStack)
ExperimentTracker = _declaration(experiment_tracker.ExperimentTracker)
SecretRef = _declaration(experiment_tracker.SecretRef)
TrainingPipeline = _declaration(training_pipeline.TrainingPipeline)
TrainStep = _declaration(training_pipeline.TrainStep)
EvaluateStep = _declaration(training_pipeline.EvaluateStep)
RegisterStep = _declaration(training_pipeline.RegisterStep)
Triggers = _declaration(training_pipeline.Triggers)
