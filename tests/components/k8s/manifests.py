"""Render captured Kubernetes resources to manifests and validate them against schemas.

Built-in kinds: kubernetes-validate, strict (unknown fields are errors), at a pinned Kubernetes
version. Custom resources: jsonschema against the upstream CRDs in `<repo>/../shared/crds/`,
which are read from there and never copied into the project.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from mlplatform.plan.model import PlannedResource
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[3]
CRDS = SHARED / "crds"
KUBERNETES_VERSION = "1.33"
SECRET = "[secret]"  # what the capture shows for a secret value

# Custom resource kinds the components create, by apiVersion/kind, with the CRD file defining them.
CUSTOM_KINDS = {
    ("serving.kserve.io/v1beta1", "InferenceService"): "serving.kserve.io_inferenceservices.yaml",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com_prometheusrules.yaml",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com_servicemonitors.yaml",
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): "monitoring.coreos.com_alertmanagerconfigs.yaml",
    ("kueue.x-k8s.io/v1beta2", "ResourceFlavor"): "kueue.x-k8s.io_resourceflavors.yaml",
    ("kueue.x-k8s.io/v1beta2", "ClusterQueue"): "kueue.x-k8s.io_clusterqueues.yaml",
    ("kueue.x-k8s.io/v1beta2", "LocalQueue"): "kueue.x-k8s.io_localqueues.yaml",
    ("kueue.x-k8s.io/v1beta2", "WorkloadPriorityClass"): "kueue.x-k8s.io_workloadpriorityclasses.yaml",
    ("trainer.kubeflow.org/v1alpha1", "TrainingRuntime"): "trainer.kubeflow.org_trainingruntimes.yaml",
    ("trainer.kubeflow.org/v1alpha1", "ClusterTrainingRuntime"): "trainer.kubeflow.org_clustertrainingruntimes.yaml",
    ("trainer.kubeflow.org/v1alpha1", "TrainJob"): "trainer.kubeflow.org_trainjobs.yaml",
    ("karpenter.sh/v1", "NodePool"): "karpenter.sh_nodepools.yaml",
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): "karpenter.k8s.aws_ec2nodeclasses.yaml",
}
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


# Custom resources whose CRDs are not among the upstream CRDs in shared/ (the External Secrets
# Operator's): the component tests assert their fields; no schema validation is possible here.
NO_CRD_HERE = {("external-secrets.io/v1", "SecretStore"), ("external-secrets.io/v1", "ExternalSecret")}


def is_kubernetes_object(resource: PlannedResource) -> bool:
    """An object the provider applies as a manifest (a Helm release is a chart install, not one)."""
    return resource.type.startswith("kubernetes:") and resource.custom and resource.type != HELM_RELEASE


def _numbers(value: Any) -> Any:
    """The wire format carries every number as a float; Kubernetes wants integers as such."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def render(resource: PlannedResource) -> dict[str, Any]:
    """The manifest the provider would apply: apiVersion, kind, metadata and the rest of the
    inputs. A secret value (shown as a placeholder) becomes a same-shaped stand-in: a Secret's
    data stays a map of strings."""
    manifest = _numbers(dict(resource.inputs))
    if manifest.get("kind") == "Secret":
        for key in ("stringData", "data"):
            if manifest.get(key) == SECRET:
                manifest[key] = {"redacted": "redacted"}
    return manifest


def validate_builtin(manifest: dict[str, Any]) -> None:
    """Raises kubernetes_validate.ValidationError (or SchemaNotFoundError for an unknown kind)."""
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


class _Loader(yaml.CSafeLoader):
    """PyYAML reads a bare `=` as the YAML 1.1 'value' tag; the CRDs use it as a plain string."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


@functools.cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    filename = CUSTOM_KINDS[(api_version, kind)]
    crd = yaml.load((CRDS / filename).read_text(encoding="utf-8"), Loader=_Loader)
    group, version = api_version.split("/")
    assert crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == kind, filename
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"{filename} serves no version {version}")


def validate_custom(manifest: dict[str, Any]) -> None:
    """Raises jsonschema.ValidationError. CRD schemas allow unknown fields only where they say
    so (x-kubernetes-preserve-unknown-fields); elsewhere an unknown field is an error, as the
    API server's structural pruning would silently drop it."""
    _crd_validator(manifest["apiVersion"], manifest["kind"]).validate(manifest)


@functools.cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_closed(crd_schema(api_version, kind)))


def _closed(schema: Any) -> Any:
    """The schema with additionalProperties=false on every object that lists its properties
    and does not preserve unknown fields: strict, like kubernetes-validate's strict mode."""
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def validate(manifest: dict[str, Any]) -> str:
    """Validate one manifest; returns how ('builtin' or 'crd')."""
    if (manifest["apiVersion"], manifest["kind"]) in CUSTOM_KINDS:
        validate_custom(manifest)
        return "crd"
    if (manifest["apiVersion"], manifest["kind"]) in NO_CRD_HERE:
        return "no-crd-here"
    validate_builtin(manifest)
    return "builtin"


# --- pod templates of workloads -----------------------------------------------------------
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "InferenceService")


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    kind, spec = manifest["kind"], manifest.get("spec", {})
    if kind == "Pod":
        return dict(spec)
    if kind == "CronJob":
        return dict(spec["jobTemplate"]["spec"]["template"]["spec"])
    if kind == "InferenceService":
        return dict(spec["predictor"])  # a PodSpec, inline
    return dict(spec["template"]["spec"])


def containers(pod: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(role, container) for every container: 'main' or 'init'."""
    return [("main", c) for c in pod.get("containers", [])] + [("init", c) for c in pod.get("initContainers", [])]
