"""mlplatform: declarative infrastructure-as-code for ML platforms, on Pulumi.

A blueprint imports its vocabulary from here. These are declarations: they record what the
blueprint says and where, and `mlplatform.blueprint` validates the whole platform at once.
Importing this package imports no pulumi, so the CLI starts fast.
"""

from mlplatform.spec.declarations import (
    AllAtOnce,
    Canary,
    Feature,
    FeatureGroup,
    FeatureStore,
    KubernetesCluster,
    Linear,
    MetricGates,
    ModelEndpoint,
    MonitoringStack,
    Network,
    NodePool,
    Platform,
    Quota,
    Serverless,
    TrainingCluster,
    Waiver,
)
from mlplatform.spec.per_env import per_env

__version__ = "0.1.0"

__all__ = [
    "AllAtOnce",
    "Canary",
    "Feature",
    "FeatureGroup",
    "FeatureStore",
    "KubernetesCluster",
    "Linear",
    "MetricGates",
    "ModelEndpoint",
    "MonitoringStack",
    "Network",
    "NodePool",
    "Platform",
    "Quota",
    "Serverless",
    "TrainingCluster",
    "Waiver",
    "per_env",
]
