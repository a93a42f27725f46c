"""What an existing Kubernetes cluster offers, declared in the blueprint instead of assumed.

Clusters differ: which KServe and in which mode, where Prometheus runs and which labels its
selectors match, whether Alertmanager can send email, which StorageClass binds volumes, whether
NetworkPolicies are enforced, whether metrics-server feeds autoscalers, how pods get AWS
credentials. The defaults describe a stock install (KServe's Serverless default, the
kube-prometheus-stack chart installed as release `kube-prometheus-stack` in `monitoring`, EKS's
`gp2` StorageClass); validation rejects a feature the declared cluster cannot provide, naming
the field. Values may differ per environment with `per_env`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mlplatform.spec.base import SpecModel

DnsLabel = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]

# Knative Serving feature flags (config-features) the platform's KServe objects may need. All are
# "disabled" in a stock Knative; Knative's webhook rejects a Service that uses a disabled field.
KnativeFeature = Literal[
    "kubernetes.podspec-securitycontext",
    "kubernetes.podspec-init-containers",
    "kubernetes.podspec-priorityclassname",
    "kubernetes.podspec-nodeselector",
    "kubernetes.podspec-tolerations",
]


class KServe(SpecModel):
    """KServe as installed on the cluster."""

    version: str = Field(
        "0.20",
        pattern=r"^0\.(1[0-9]|[2-9][0-9])$",
        description="KServe minor version, e.g. 0.15. Omitted: 0.20. storageUris needs 0.16+.",
    )
    mode: Literal["Serverless", "RawDeployment"] = Field(
        "Serverless",
        description="Deployment mode of the platform's InferenceServices: Serverless (Knative) or "
        "RawDeployment (plain Deployments; KServe 0.16+ calls them Knative and Standard). Omitted: "
        "Serverless, KServe's default.",
    )
    knative_features: list[KnativeFeature] = Field(
        default_factory=list,
        description="Knative config-features flags enabled on the cluster (Serverless mode). "
        "Omitted: none, as in a stock Knative.",
    )
    ingress_namespace: DnsLabel = Field(
        "istio-system",
        description="Namespace of the Knative ingress gateway (Serverless mode; kourier-system for "
        "Kourier). Omitted: istio-system.",
    )
    restricted_storage_initializer: bool = Field(
        False,
        description="The cluster's ClusterStorageContainer gives KServe's storage initializer a restricted "
        "securityContext, seccomp profile included (as Kubeflow's manifests patch it). Omitted: it does not, "
        "so namespaces serving KServe endpoints enforce Pod Security baseline (reported).",
    )
    serving_namespace: DnsLabel = Field(
        "knative-serving",
        description="Namespace of Knative's activator and autoscaler (Serverless mode). Omitted: knative-serving.",
    )

    def has(self, feature: str) -> bool:
        return self.mode == "Serverless" and feature in self.knative_features

    @property
    def minor(self) -> int:
        return int(self.version.split(".")[1])


class Smtp(SpecModel):
    """How Alertmanager sends email: a relay, and optionally a login whose password the platform
    puts in a Secret from the stack's secret config `mlplatform:smtpPassword`."""

    smarthost: str = Field(
        pattern=r"^[A-Za-z0-9.-]+:\d{1,5}$",
        description="SMTP relay as host:port, e.g. email-smtp.eu-west-1.amazonaws.com:587.",
    )
    from_address: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", description="Sender address.")
    username: str | None = Field(
        None,
        min_length=1,
        description="SMTP login; its password comes from the secret stack config mlplatform:smtpPassword. "
        "Omitted: the relay accepts mail without login.",
    )
    require_tls: bool = Field(True, description="Refuse to send without STARTTLS. Omitted: required.")


class Prometheus(SpecModel):
    """The Prometheus Operator stack that loads the platform's rules and scrape configs."""

    namespace: DnsLabel = Field(
        "monitoring", description="Namespace Prometheus and Alertmanager run in. Omitted: monitoring."
    )
    selector_labels: dict[str, str] = Field(
        default_factory=lambda: {"release": "kube-prometheus-stack"},
        description="Labels the Prometheus ruleSelector and serviceMonitorSelector match "
        "(kube-prometheus-stack selects release: <its Helm release>). Omitted: release: kube-prometheus-stack.",
    )
    smtp: Smtp | None = Field(
        None, description="How Alertmanager sends email. Omitted: it does not; email notify targets are an error."
    )


class Irsa(SpecModel):
    """IAM roles for service accounts: the cluster's service-account token issuer is an IAM OIDC
    provider of the account, and a pod identity webhook injects the web identity token (EKS runs
    it; elsewhere install amazon-eks-pod-identity-webhook and publish the issuer's discovery
    document)."""

    kind: Literal["irsa"] = "irsa"
    oidc_issuer: str = Field(
        pattern=r"^[A-Za-z0-9.-]+(/[A-Za-z0-9._-]+)*$",
        description="The issuer without https://, e.g. "
        "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE; its IAM OIDC provider "
        "must exist in the account.",
    )


class PodIdentity(SpecModel):
    """EKS Pod Identity: the eks-pod-identity-agent add-on runs on the cluster."""

    kind: Literal["pod_identity"] = "pod_identity"
    cluster_name: str = Field(
        pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", description="The EKS cluster the associations are made on."
    )


WorkloadIdentity = Annotated[Irsa | PodIdentity, Field(discriminator="kind")]
