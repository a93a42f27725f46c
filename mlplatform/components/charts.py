"""Every Helm chart and controller image the platform installs, pinned in one place.

A chart is named by repository, chart and exact version (never a range), and the images the
charts would otherwise pick by a moving tag are pinned here too. The plan shows each release's
chart and version. Upgrading one is a one-line change here, reviewed like code; the custom
resources the platform renders are tested against the CRDs of these versions.

Plain data: no pulumi import, so the CLI (`mlplatform train render`) reads it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlplatform.spec import training_equipment


@dataclass(frozen=True)
class Chart:
    release: str  # Helm release name
    chart: str  # chart name, or the full oci:// reference
    version: str  # exact chart version
    namespace: str
    repository: str | None = None  # https chart repository; None for an oci:// chart
    app_version: str = ""  # what the chart deploys, for the plan and the docs

    @property
    def reference(self) -> str:
        """How the plan and the docs name it: repository/chart@version."""
        where = f"{self.repository.rstrip('/')}/{self.chart}" if self.repository else self.chart
        return f"{where}@{self.version}"


# Karpenter: node autoscaling from zero, one NodePool + EC2NodeClass per blueprint node pool.
KARPENTER = Chart(
    release="karpenter",
    chart="oci://public.ecr.aws/karpenter/karpenter",
    version="1.14.1",
    namespace="kube-system",  # the Karpenter docs' and terraform-aws-eks's choice
    app_version="1.14.1",
)
KARPENTER_IMAGE = (
    "public.ecr.aws/karpenter/controller:1.14.1@sha256:723130949e4cab989461ff07d1be4cd781d63515432494641b33c235f300ae23"
)

# NVIDIA device plugin: makes nvidia.com/gpu allocatable on GPU nodes (the EKS AL2023 NVIDIA
# AMI ships the driver and container toolkit, not the plugin).
NVIDIA_DEVICE_PLUGIN = Chart(
    release="nvidia-device-plugin",
    chart="nvidia-device-plugin",
    version="0.20.0",
    namespace="kube-system",  # the chart refuses the default namespace
    repository="https://nvidia.github.io/k8s-device-plugin",
    app_version="0.20.0",
)

# Kueue: job queueing against quotas (ClusterQueue, LocalQueue, ResourceFlavor).
KUEUE = Chart(
    release="kueue",
    chart="oci://registry.k8s.io/kueue/charts/kueue",
    version="0.19.2",
    namespace="kueue-system",
    app_version="v0.19.2",
)
# The chart's own values name a staging image with pullPolicy Always; pin the release image.
KUEUE_IMAGE = ("registry.k8s.io/kueue/kueue", "v0.19.2")
KUEUE_API = "kueue.x-k8s.io/v1beta2"

# Kubeflow Trainer v2 (TrainJob, TrainingRuntime); its chart installs JobSet as a dependency.
KUBEFLOW_TRAINER = Chart(
    release="kubeflow-trainer",
    chart="oci://ghcr.io/kubeflow/charts/kubeflow-trainer",
    version="2.3.0",
    namespace="kubeflow-system",
    app_version="v2.3.0",
)
TRAINER_IMAGE = ("ghcr.io/kubeflow/trainer/trainer-controller-manager", "v2.3.0")
TRAINER_API = "trainer.kubeflow.org/v1alpha1"
# The JobSet chart version kubeflow-trainer 2.3.0 depends on (its Chart.yaml), and its image.
JOBSET_VERSION = "0.12.0"
JOBSET_IMAGE = ("registry.k8s.io/jobset/jobset", "v0.12.0")

KARPENTER_API = "karpenter.sh/v1"
KARPENTER_AWS_API = "karpenter.k8s.aws/v1"

# EKS managed add-ons: names and order in mlplatform.spec.training_equipment. Versions: EKS's
# default version of each add-on for the cluster's Kubernetes version (DescribeAddonVersions),
# unless the blueprint pins one in TrainingCluster.addon_versions.
ADDONS_BEFORE_NODES = training_equipment.ADDONS_BEFORE_NODES
ADDONS_AFTER_NODES = training_equipment.ADDONS_AFTER_NODES

ALL_CHARTS = (KARPENTER, NVIDIA_DEVICE_PLUGIN, KUEUE, KUBEFLOW_TRAINER)

# MLflow tracking server (ExperimentTracker with target="kubernetes"): community-charts/mlflow, the
# maintained chart with a values schema and basic-auth settings (MLflow's own chart, 0.1.x, has
# neither yet). Its release is named per tracker, `<platform>-<env>-<tracker>`, in the platform namespace.
MLFLOW = Chart(
    release="mlflow",
    chart="mlflow",
    version="1.11.5",
    namespace="",
    repository="https://community-charts.github.io/helm-charts",
    app_version="3.15.1",
)
MLFLOW_IMAGE = ("burakince/mlflow", "3.15.1")  # the chart's default image at its appVersion
