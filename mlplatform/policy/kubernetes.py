"""Kubernetes workloads: probes, resources, and a locked-down security context (Checkov CKV_K8S)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlplatform.plan.model import PlannedResource
from mlplatform.policy.rules import Context, as_list, dig, rule

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
WORKLOADS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, JOB, CRON_JOB, POD, INFERENCE_SERVICE)
LONG_RUNNING = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, POD, INFERENCE_SERVICE)


def pod_spec(resource: PlannedResource) -> dict[str, Any]:
    spec = resource.inputs.get("spec")
    if resource.type == POD:
        found = spec
    elif resource.type == CRON_JOB:
        found = dig(spec, "jobTemplate", "spec", "template", "spec")
    elif resource.type == INFERENCE_SERVICE:
        found = dig(spec, "predictor")  # a PodSpec plus `model`
    else:
        found = dig(spec, "template", "spec")
    return found if isinstance(found, dict) else {}


def containers(resource: PlannedResource, *, init: bool = True) -> list[dict[str, Any]]:
    spec = pod_spec(resource)
    found = [c for c in as_list(spec.get("containers")) if isinstance(c, dict)]
    if resource.type == INFERENCE_SERVICE and isinstance(spec.get("model"), dict):
        found.append({"name": "kserve-container", **spec["model"]})
    if init:
        found += [c for c in as_list(spec.get("initContainers")) if isinstance(c, dict)]
    return found


def _where(resource: PlannedResource, container: dict[str, Any]) -> str:
    kind = resource.type.rsplit(":", 1)[-1]
    name = dig(resource.inputs, "metadata", "name") or resource.name
    return f"{kind} '{name}' container '{container.get('name') or '?'}'"


def _each(
    resource: PlannedResource, ok: Callable[[dict[str, Any], dict[str, Any]], bool], fix: str, *, init: bool = True
) -> list[str]:
    spec = pod_spec(resource)
    return [f"{_where(resource, c)} {fix}" for c in containers(resource, init=init) if not ok(c, spec)]


def _security(container: dict[str, Any], spec: dict[str, Any], key: str) -> Any:
    """A container's securityContext setting, else the pod's (where Kubernetes inherits it)."""
    value = dig(container, "securityContext", key)
    if value is None and key in ("runAsNonRoot", "runAsUser"):
        value = dig(spec, "securityContext", key)
    return value


@rule("MLP-K8S-001", "error", LONG_RUNNING, "Liveness probe on every container", checkov="CKV_K8S_8")
def liveness_probe(resource: PlannedResource, ctx: Context) -> list[str]:
    return _each(resource, lambda c, _: bool(c.get("livenessProbe")), "has no livenessProbe: add one", init=False)


@rule("MLP-K8S-002", "error", LONG_RUNNING, "Readiness probe on every container", checkov="CKV_K8S_9")
def readiness_probe(resource: PlannedResource, ctx: Context) -> list[str]:
    return _each(resource, lambda c, _: bool(c.get("readinessProbe")), "has no readinessProbe: add one", init=False)


def _resource_rule(kind: str, what: str) -> Callable[[PlannedResource, Context], list[str]]:
    def check(resource: PlannedResource, ctx: Context) -> list[str]:
        return _each(
            resource,
            lambda c, _: dig(c, "resources", kind, what) not in (None, ""),
            f"sets no {what} {kind}: set resources.{kind}.{what} (ModelEndpoint {what})",
        )

    return check


cpu_requests = rule("MLP-K8S-003", "error", WORKLOADS, "CPU requests set", checkov="CKV_K8S_10")(
    _resource_rule("requests", "cpu")
)
cpu_limits = rule("MLP-K8S-004", "error", WORKLOADS, "CPU limits set", checkov="CKV_K8S_11")(
    _resource_rule("limits", "cpu")
)
memory_requests = rule("MLP-K8S-005", "error", WORKLOADS, "Memory requests set", checkov="CKV_K8S_12")(
    _resource_rule("requests", "memory")
)
memory_limits = rule("MLP-K8S-006", "error", WORKLOADS, "Memory limits set", checkov="CKV_K8S_13")(
    _resource_rule("limits", "memory")
)


@rule("MLP-K8S-007", "error", WORKLOADS, "No privilege escalation", checkov="CKV_K8S_20")
def no_privilege_escalation(resource: PlannedResource, ctx: Context) -> list[str]:
    return _each(
        resource,
        lambda c, s: _security(c, s, "allowPrivilegeEscalation") is False,
        "may escalate privileges: set securityContext.allowPrivilegeEscalation=false",
    )


@rule("MLP-K8S-008", "error", WORKLOADS, "Read-only root filesystem", checkov="CKV_K8S_22")
def read_only_root(resource: PlannedResource, ctx: Context) -> list[str]:
    return _each(
        resource,
        lambda c, s: _security(c, s, "readOnlyRootFilesystem") is True,
        "has a writable root filesystem: set securityContext.readOnlyRootFilesystem=true "
        "(mount an emptyDir where it must write)",
    )


@rule("MLP-K8S-009", "error", WORKLOADS, "Runs as non-root", checkov="CKV_K8S_23")
def non_root(resource: PlannedResource, ctx: Context) -> list[str]:
    def ok(c: dict[str, Any], s: dict[str, Any]) -> bool:
        user = _security(c, s, "runAsUser")
        return _security(c, s, "runAsNonRoot") is True and user != 0

    return _each(resource, ok, "may run as root: set securityContext.runAsNonRoot=true and a non-zero runAsUser")


@rule("MLP-K8S-010", "error", WORKLOADS, "Image pinned by tag or digest, not latest", checkov="CKV_K8S_14")
def image_tag(resource: PlannedResource, ctx: Context) -> list[str]:
    def ok(c: dict[str, Any], _: dict[str, Any]) -> bool:
        image = c.get("image")
        if not isinstance(image, str) or not image:
            return resource.type == INFERENCE_SERVICE and "storageUri" in c  # a KServe runtime image
        if "@sha256:" in image:
            return True
        last = image.rsplit("/", 1)[-1]
        return ":" in last and last.rsplit(":", 1)[1] != "latest"

    return _each(resource, ok, "image is not pinned: use a version tag or a digest, never 'latest' or none")
