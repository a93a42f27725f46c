"""The Pod Security Standards' `restricted` profile as a check over pod specs, and the containers
and volumes that admission webhooks add to the platform's pods before Pod Security admission
sees them.

The rules are the Kubernetes documentation's ("Pod Security Standards", policies baseline and
restricted, as of Kubernetes 1.33): each check below names its control. The injected parts
follow the webhooks' sources: KServe's storage initializer (kserve pkg/utils/storage.go
CreateInitContainerWithConfig; no securityContext of its own on the webhook path, kserve#5373),
Knative's queue-proxy (knative/serving pkg/reconciler/revision/resources/queue.go
queueSecurityContext), the EKS pod identity webhook's token volume (amazon-eks-pod-identity-webhook)
and EKS Pod Identity's (eks-pod-identity-agent).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from mlplatform.spec.cluster import KServe

BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
}  # fmt: skip
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def _containers(pod: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for c in pod.get(kind, []) or []:
            yield f"{kind[:-1]} {c.get('name')}", c


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """Every way `pod` (a PodSpec) breaks the `restricted` profile (which includes baseline)."""
    out: list[str] = []
    psc = pod.get("securityContext") or {}
    # baseline: Host Namespaces
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            out.append(f"host namespaces: {field}")
    # baseline: HostPath Volumes; restricted: Volume Types
    for v in pod.get("volumes", []) or []:
        kinds = [k for k in v if k != "name"]
        if any(k not in RESTRICTED_VOLUMES for k in kinds):
            out.append(f"volume types: volume {v.get('name')} is {kinds}")
    # baseline: Sysctls
    for s in psc.get("sysctls", []) or []:
        if s.get("name") not in SAFE_SYSCTLS:
            out.append(f"sysctls: {s.get('name')}")
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    pod_non_root = psc.get("runAsNonRoot")
    if pod_seccomp not in (None, "RuntimeDefault", "Localhost"):
        out.append(f"seccomp: pod profile {pod_seccomp}")
    if psc.get("runAsUser") == 0:
        out.append("running as non-root user: pod runAsUser 0")
    out += _selinux("pod", psc)
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        out.append("hostProcess: pod")
    for where, c in _containers(pod):
        sc = c.get("securityContext") or {}
        # baseline: Privileged Containers, HostProcess, Host Ports, /proc Mount Type, AppArmor, SELinux
        if sc.get("privileged"):
            out.append(f"privileged: {where}")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            out.append(f"hostProcess: {where}")
        for port in c.get("ports", []) or []:
            if port.get("hostPort"):
                out.append(f"host ports: {where}")
        if sc.get("procMount") not in (None, "Default"):
            out.append(f"/proc mount type: {where}")
        if (sc.get("appArmorProfile") or {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
            out.append(f"AppArmor: {where}")
        out += _selinux(where, sc)
        # restricted: Privilege Escalation
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"privilege escalation: {where} must set allowPrivilegeEscalation=false")
        # restricted: Running as Non-root (container setting wins over the pod's)
        non_root = sc.get("runAsNonRoot", pod_non_root)
        if non_root is not True:
            out.append(f"running as non-root: {where} (or the pod) must set runAsNonRoot=true")
        if sc.get("runAsUser") == 0:
            out.append(f"running as non-root user: {where} runAsUser 0")
        # restricted: Seccomp (RuntimeDefault or Localhost, on the container or the pod)
        seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append(f"seccomp: {where} (or the pod) must set seccompProfile RuntimeDefault or Localhost")
        # restricted: Capabilities (drop ALL, add at most NET_BIND_SERVICE)
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"capabilities: {where} must drop ALL")
        if any(a != "NET_BIND_SERVICE" for a in caps.get("add") or []):
            out.append(f"capabilities: {where} adds {caps.get('add')}")
    return out


def _selinux(where: str, sc: dict[str, Any]) -> list[str]:
    opts = sc.get("seLinuxOptions") or {}
    if opts.get("type", "") not in SELINUX_TYPES or opts.get("user") or opts.get("role"):
        return [f"SELinux: {where}"]
    return []


# --- what webhooks add ----------------------------------------------------------------------
STORAGE_INITIALIZER = {
    "name": "storage-initializer",
    "image": "kserve/storage-initializer:v0.15.2",
    "args": ["<storage uri>", "/mnt/models"],
    "terminationMessagePolicy": "FallbackToLogsOnError",
    "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    "volumeMounts": [{"name": "kserve-provision-location", "mountPath": "/mnt/models"}],
}
# What Kubeflow's manifests patch into the default ClusterStorageContainer (community-distribution#3527).
RESTRICTED_STORAGE_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "seccompProfile": {"type": "RuntimeDefault"},
}
QUEUE_PROXY = {
    "name": "queue-proxy",
    "image": "gcr.io/knative-releases/knative.dev/serving/cmd/queue@sha256:" + "0" * 64,
    "ports": [{"name": "http-queueadm", "containerPort": 8022}, {"name": "queue-port", "containerPort": 8012}],
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}
IRSA_TOKEN = {
    "name": "aws-iam-token",
    "projected": {"sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "path": "token"}}]},
}
POD_IDENTITY_TOKEN = {
    "name": "eks-pod-identity-token",
    "projected": {"sources": [{"serviceAccountToken": {"audience": "pods.eks.amazonaws.com", "path": "token"}}]},
}


def admitted_pod(pod: dict[str, Any], *, kserve: KServe | None, pod_identity: bool = False) -> dict[str, Any]:
    """The pod as Pod Security admission sees it: `pod` plus what the webhooks add. `kserve`:
    the declared KServe when `pod` is an InferenceService predictor."""
    out = copy.deepcopy(pod)
    out.setdefault("volumes", []).append(POD_IDENTITY_TOKEN if pod_identity else IRSA_TOKEN)
    if kserve is None:
        return out
    for key in ("minReplicas", "maxReplicas", "annotations", "labels", "storageUris", "canaryTrafficPercent"):
        out.pop(key, None)
    init = copy.deepcopy(STORAGE_INITIALIZER)
    if kserve.restricted_storage_initializer:
        init["securityContext"] = dict(RESTRICTED_STORAGE_CONTEXT)
    out.setdefault("initContainers", []).append(init)
    out["volumes"].append({"name": "kserve-provision-location", "emptyDir": {}})
    if kserve.mode == "Serverless":
        out["containers"].append(copy.deepcopy(QUEUE_PROXY))
    return out


def pod_specs(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod spec inside a manifest (workloads, job templates, runtime templates), found by
    shape: a mapping with a list of containers that have images."""

    def walk(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            containers = node.get("containers")
            if (
                isinstance(containers, list)
                and containers
                and all(isinstance(c, dict) and "image" in c for c in containers)
            ):
                yield path, node
                return
            for k, v in node.items():
                yield from walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{path}[{i}]")

    yield from walk(manifest.get("spec", {}), "spec")
