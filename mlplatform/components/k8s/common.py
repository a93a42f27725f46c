"""What every Kubernetes component shares: labels, pinned images, hardened containers.

The security settings live here once so that each workload (Deployment, StatefulSet, KServe
predictor, init containers, job templates) gets the same posture: non-root, read-only root
filesystem, no privilege escalation, all capabilities dropped, the runtime's default seccomp
profile, a writable emptyDir only where the process needs one, requests equal to limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from mlplatform import naming
from mlplatform.context import MANAGED_BY
from mlplatform.errors import MlplatformError

# Kubernetes groups the project labels with; mirrors the AWS tag keys mlplatform:<key>.
LABEL_PREFIX = "mlplatform.io"

# A non-root uid/gid for containers whose image does not pick one (65532: "nonroot" in
# distroless images). Images that need another uid get it where they are built (Redis).
NONROOT_UID = 65532

GPU_RESOURCE = "nvidia.com/gpu"
# Set by NVIDIA GPU feature discovery (and the EKS GPU AMI's device plugin setup) on GPU nodes.
GPU_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}
# GPU node pools are tainted so that only pods asking for GPUs land there.
GPU_TOLERATIONS = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]

# Pod Security Admission: every namespace the platform creates enforces one level, `restricted`
# unless something the platform runs cannot meet it (KServe's storage initializer); warnings and
# audit annotations always measure against `restricted`.
POD_SECURITY_LEVEL = "restricted"
POD_SECURITY_FALLBACK = "baseline"

# Scheduling priority: serving pods outrank training pods, so a training burst never starves or
# preempts an endpoint. Pods without a class get 0 (no class is the cluster default here).
SERVING_PRIORITY = 100_000
TRAINING_PRIORITY = 1_000

LIVE_PATH = "/v2/health/live"
READY_PATH = "/v2/health/ready"

_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9_.-]+")


def label_value(value: str) -> str:
    """A label value from free text (a team may be 'risk ml/fraud'): at most 63 characters of
    letters, digits, '-', '_' and '.', starting and ending alphanumeric."""
    cleaned = _LABEL_VALUE_BAD.sub("-", value)[: naming.DNS_LABEL_MAX]
    return cleaned.strip("-_.")


@dataclass(frozen=True)
class Scope:
    """One platform in one environment on one cluster: what every component's labels and
    namespaces derive from."""

    platform: str
    team: str
    env: str
    namespace: str  # serving, features and monitoring

    @property
    def names(self) -> naming.Names:
        return naming.Names(self.platform, self.env)

    def platform_labels(self) -> dict[str, str]:
        """Labels that identify the platform environment (also used to select its namespaces)."""
        return {
            f"{LABEL_PREFIX}/platform": label_value(self.platform),
            f"{LABEL_PREFIX}/environment": label_value(self.env),
        }

    def labels(self, *, name: str, instance: str, component: str, version: str | None = None) -> dict[str, str]:
        """The Kubernetes recommended labels plus platform, team and environment."""
        out = {
            "app.kubernetes.io/name": label_value(name),
            "app.kubernetes.io/instance": label_value(instance),
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": label_value(self.platform),
            "app.kubernetes.io/managed-by": MANAGED_BY,
            **self.platform_labels(),
            f"{LABEL_PREFIX}/team": label_value(self.team),
        }
        if version:
            out["app.kubernetes.io/version"] = label_value(version)
        return out

    def namespace_metadata(self, name: str, component: str, level: str = POD_SECURITY_LEVEL) -> dict[str, Any]:
        """A namespace labelled like its contents, with Pod Security Admission enforcing `level`
        and warning and auditing against `restricted`."""
        labels = self.labels(name=name, instance=name, component=component)
        labels.update(pod_security_labels(level))
        return {"name": name, "labels": labels}


def pod_security_labels(level: str) -> dict[str, str]:
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/audit": POD_SECURITY_LEVEL,
        "pod-security.kubernetes.io/warn": POD_SECURITY_LEVEL,
    }


def selector(labels: dict[str, str]) -> dict[str, str]:
    """The immutable subset of labels a selector uses: name and instance, never the version."""
    return {k: labels[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def child_options(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Options for a component's children: parented (so they inherit its provider) and after
    whatever the component was told to wait for (a component's depends_on is not inherited
    by its children, so a namespace would otherwise be created concurrently with them)."""
    deps = opts.depends_on if opts is not None else None
    return pulumi.ResourceOptions(parent=parent, depends_on=deps)


# --- images -------------------------------------------------------------------------------
def image_problem(image: str) -> str | None:
    """Why `image` is not pinned, or None. A digest pins; so does a tag other than 'latest'."""
    if "@" in image:
        digest = image.split("@", 1)[1]
        if re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            return None
        return f"'{image}' has a malformed digest (expected @sha256: and 64 hex digits)"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"'{image}' has no tag, so it runs whatever 'latest' is at pull time"
    if last.rsplit(":", 1)[1] == "latest":
        return f"'{image}' uses the 'latest' tag, which changes under a running workload"
    return None


def pinned_image(image: str, where: str) -> str:
    problem = image_problem(image)
    if problem:
        raise MlplatformError(
            f"{where}: {problem}; pin it with a version tag (repo:1.4.2) or a digest (repo@sha256:...)"
        )
    return image


# --- pods and containers ----------------------------------------------------------------
def container_security(uid: int = NONROOT_UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security(uid: int = NONROOT_UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(cpu: str, memory: str, gpus: int = 0) -> dict[str, Any]:
    """Requests equal to limits: the Guaranteed QoS class, never evicted for another pod's burst."""
    amounts: dict[str, Any] = {"cpu": cpu, "memory": memory}
    if gpus:
        amounts[GPU_RESOURCE] = str(gpus)
    return {"requests": dict(amounts), "limits": dict(amounts)}


TMP_VOLUME = "tmp"


def tmp_volume(size: str = "1Gi") -> dict[str, Any]:
    """The one writable path most processes need with a read-only root filesystem."""
    return {"name": TMP_VOLUME, "emptyDir": {"sizeLimit": size}}


def tmp_mount() -> dict[str, Any]:
    return {"name": TMP_VOLUME, "mountPath": "/tmp"}


def http_probe(path: str, port: int | str, *, period: int = 10, failures: int = 3, delay: int = 0) -> dict[str, Any]:
    probe: dict[str, Any] = {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }
    if delay:
        probe["initialDelaySeconds"] = delay
    return probe


def probes(port: int | str) -> dict[str, Any]:
    """Open Inference Protocol health probes: startup covers slow model loading, liveness then
    restarts a wedged server, readiness takes it out of the Service."""
    return {
        "startupProbe": http_probe(READY_PATH, port, period=5, failures=60),
        "livenessProbe": http_probe(LIVE_PATH, port),
        "readinessProbe": http_probe(READY_PATH, port, period=5),
    }


def gpu_scheduling() -> dict[str, Any]:
    return {"nodeSelector": dict(GPU_NODE_SELECTOR), "tolerations": [dict(t) for t in GPU_TOLERATIONS]}


def job_pod_template(*, namespace: str, service_account: str, priority_class: str, gpu: bool) -> dict[str, Any]:
    """A pod spec skeleton for training jobs in a TrainingCluster namespace: the security
    settings its namespace enforces, and GPU scheduling when asked for."""
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "priorityClassName": priority_class,
        "restartPolicy": "Never",
        "securityContext": pod_security(),
        "volumes": [tmp_volume("10Gi")],
    }
    if gpu:
        spec["nodeSelector"] = dict(GPU_NODE_SELECTOR)
        spec["tolerations"] = [dict(t) for t in GPU_TOLERATIONS]
    return {"metadata": {"namespace": namespace}, "spec": spec}
