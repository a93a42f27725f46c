"""mlplatform: declarative infrastructure-as-code for ML platforms, on Pulumi.

A blueprint imports its vocabulary from here. These are declarations: they record what the
blueprint says and where, and `mlplatform.blueprint` validates the whole platform at once.
Importing this package imports no pulumi, so the CLI starts fast.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlplatform.spec.declarations import (
        AllAtOnce,
        ApiAccess,
        Canary,
        DeclaredKarpenter,
        EvaluateStep,
        ExperimentTracker,
        Feature,
        FeatureGroup,
        FeatureStore,
        FeatureView,
        Irsa,
        KServe,
        KubernetesCluster,
        Linear,
        MetricGates,
        ModelEndpoint,
        MonitoringStack,
        Network,
        NodePool,
        Platform,
        PodIdentity,
        Prometheus,
        Quota,
        RegisterStep,
        SecretRef,
        Serverless,
        ServingMetrics,
        Smtp,
        SystemNodes,
        TrainingCluster,
        TrainingEquipment,
        TrainingPipeline,
        TrainStep,
        Triggers,
        Waiver,
    )
    from mlplatform.spec.per_env import per_env

__version__ = "0.1.0"

__all__ = [
    "AllAtOnce",
    "ApiAccess",
    "Canary",
    "DeclaredKarpenter",
    "EvaluateStep",
    "ExperimentTracker",
    "Feature",
    "FeatureGroup",
    "FeatureStore",
    "FeatureView",
    "Irsa",
    "KServe",
    "KubernetesCluster",
    "Linear",
    "MetricGates",
    "ModelEndpoint",
    "MonitoringStack",
    "Network",
    "NodePool",
    "Platform",
    "PodIdentity",
    "Prometheus",
    "Quota",
    "RegisterStep",
    "SecretRef",
    "Serverless",
    "ServingMetrics",
    "Smtp",
    "SystemNodes",
    "TrainStep",
    "TrainingCluster",
    "TrainingEquipment",
    "TrainingPipeline",
    "Triggers",
    "Waiver",
    "per_env",
]


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): the CLI imports this package, and building the pydantic models on every
    # `mlplatform --help` would cost more than its whole start-up budget.
    if name == "per_env":
        from mlplatform.spec.per_env import per_env

        return per_env
    if name in __all__:
        from mlplatform.spec import declarations

        return getattr(declarations, name)
    raise AttributeError(f"module 'mlplatform' has no attribute {name!r}")
