"""The blueprint language: pydantic models, `per_env`, and validation. Imports no pulumi."""

from mlplatform.spec.feature_store import Feature, FeatureGroup, FeatureStore
from mlplatform.spec.model_endpoint import AllAtOnce, Canary, Linear, MetricGates, ModelEndpoint, Serverless
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.spec.network import Network
from mlplatform.spec.per_env import PerEnv, per_env
from mlplatform.spec.platform import Component, KubernetesCluster, Platform, Waiver
from mlplatform.spec.problems import BlueprintInvalid, Problem
from mlplatform.spec.training_cluster import NodePool, Quota, TrainingCluster
from mlplatform.spec.validate import Validated, validate_raw

__all__ = [
    "AllAtOnce",
    "BlueprintInvalid",
    "Canary",
    "Component",
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
    "PerEnv",
    "Platform",
    "Problem",
    "Quota",
    "Serverless",
    "TrainingCluster",
    "Validated",
    "Waiver",
    "per_env",
    "validate_raw",
]
