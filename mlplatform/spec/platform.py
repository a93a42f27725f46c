"""Platform: the root of a blueprint, one per file."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import Field

from mlplatform.spec.base import Name, SpecModel
from mlplatform.spec.cluster import KServe, Prometheus, WorkloadIdentity
from mlplatform.spec.experiment_tracker import ExperimentTracker
from mlplatform.spec.feature_store import FeatureStore
from mlplatform.spec.model_endpoint import ModelEndpoint
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.spec.network import Network
from mlplatform.spec.training_cluster import TrainingCluster
from mlplatform.spec.training_equipment import TrainingEquipment
from mlplatform.spec.training_pipeline import TrainingPipeline

Component = Annotated[
    FeatureStore | TrainingCluster | ModelEndpoint | MonitoringStack | ExperimentTracker | TrainingPipeline,
    Field(discriminator="kind"),
]

C = TypeVar("C", bound=SpecModel)

MANAGED_BY = "mlplatform"

EnvName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,11}$")]


class Waiver(SpecModel):
    """A guardrail rule switched off on purpose; listed in every plan."""

    rule: str = Field(pattern=r"^MLP-[A-Z0-9]+-\d{3}$", description="Rule id, e.g. MLP-S3-001.")
    reason: str = Field(min_length=10, description="Why it is safe here; shown in every plan.")
    component: Name | None = Field(None, description="Only for this component. Omitted: the whole platform.")


class KubernetesCluster(SpecModel):
    """Which cluster `target="kubernetes"` components deploy to."""

    training_cluster: Name | None = Field(
        None,
        description="An eks TrainingCluster of this blueprint. Omitted: the cluster named by the "
        "stack config (mlplatform:kubeconfig / mlplatform:kubeContext).",
    )
    namespace: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Namespace for serving and monitoring. Omitted: <platform>-<env>.",
    )
    # What the cluster offers (see mlplatform.spec.cluster); validation holds components to it.
    kserve: KServe = Field(default_factory=KServe, description="KServe on the cluster. Omitted: the KServe defaults.")
    prometheus: Prometheus = Field(
        default_factory=Prometheus, description="The Prometheus Operator stack. Omitted: a stock kube-prometheus-stack."
    )
    storage_class: str = Field(
        "gp2",
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="StorageClass every volume claim names. Omitted: gp2 (EKS's; it needs the EBS CSI driver).",
    )
    network_policies: bool = Field(
        True,
        description="The cluster's network plugin enforces NetworkPolicies. Omitted: enforced. False: "
        "allowed_callers is an error, since nothing would restrict callers.",
    )
    metrics_server: bool = Field(True, description="metrics-server runs (CPU autoscaling needs it). Omitted: it runs.")
    external_secrets: bool = Field(
        False,
        description="The External Secrets Operator (external-secrets.io/v1) runs on the platform's clusters (this "
        "one and the EKS clusters of its TrainingClusters): secrets synced from Secrets Manager (an RDS-backed "
        "MLflow's password, a W&B key in Secrets Manager) need it. Omitted: it does not, and those are an error.",
    )
    workload_identity: WorkloadIdentity | None = Field(
        None,
        description="How pods get AWS credentials: Irsa(oidc_issuer=...) or PodIdentity(cluster_name=...). "
        "Omitted: IRSA through the OIDC provider of training_cluster; without one, endpoints are an error.",
    )
    training: TrainingEquipment = Field(
        default_factory=TrainingEquipment,
        description="Training controllers the cluster already runs. Omitted: none; the platform installs them.",
    )


class Platform(SpecModel):
    name: Name = Field(description="Platform name; prefixes every resource name with the environment.")
    team: str = Field(min_length=1, max_length=64, pattern=r"^[\w .:/=+@-]+$", description="Owning team, tagged.")
    region: str = Field(
        "us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region. Omitted: us-east-1."
    )
    environments: list[EnvName] = Field(
        default_factory=lambda: ["dev", "staging", "prod"],
        min_length=1,
        description="Environments, in promotion order. Omitted: dev, staging, prod.",
    )
    components: list[Component] = Field(default_factory=list, description="The platform's parts.")
    network: Network | None = Field(
        None,
        description="VPC for AWS compute. Omitted: a new VPC when a SageMaker endpoint or EKS cluster needs one.",
    )
    kubernetes: KubernetesCluster = Field(
        default_factory=KubernetesCluster,
        description="Cluster for kubernetes targets. Omitted: from stack config.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Extra tags on every resource. Omitted: only the standard tags."
    )
    waivers: list[Waiver] = Field(default_factory=list, description="Guardrail waivers. Omitted: none.")

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def of_kind(self, kind: type[C]) -> list[C]:
        return [c for c in self.components if isinstance(c, kind)]

    def resource_tags(self, env: str, component: str) -> dict[str, str]:
        """The tags every taggable resource of `component` carries in `env` (the program sets them
        on each resource; generated configs such as Feast's repeat them)."""
        return {
            **self.tags,
            "mlplatform:platform": self.name,
            "mlplatform:team": self.team,
            "mlplatform:environment": env,
            "mlplatform:component": component,
            "managed-by": MANAGED_BY,
        }
