"""What Knative Serving's webhook accepts in a Service's pod template, for the feature flags a
cluster enables (knative/serving pkg/apis/serving/fieldmask.go: PodSpecMask, ContainerMask,
SecurityContextMask, PodSecurityContextMask; k8s_validation.go: reserved env vars, ports,
paths and container names, init containers behind kubernetes.podspec-init-containers).

KServe's Serverless mode copies the predictor's pod fields into the Knative Service template
(its ComponentExtensionSpec fields stay with KServe); with `storageUris` it also adds the
storage initializer there as an init container (kserve pkg/webhook/admission/pod/
storage_initializer_injector.go: "Knative supports init containers so storage initializer is
added as init container directly in the controller").
"""

from __future__ import annotations

from typing import Any

# ComponentExtensionSpec and PredictorSpec fields KServe keeps for itself.
KSERVE_FIELDS = {
    "minReplicas", "maxReplicas", "scaleTarget", "scaleMetric", "scaleMetricType", "containerConcurrency",
    "timeout", "canaryTrafficPercent", "logger", "batcher", "labels", "annotations", "deploymentStrategy",
    "autoScaling", "storageUris", "storageContainerName", "workerSpec",
}  # fmt: skip
POD_ALLOWED = {"serviceAccountName", "containers", "volumes", "imagePullSecrets", "enableServiceLinks"}
POD_FEATURES = {
    "affinity": "kubernetes.podspec-affinity",
    "topologySpreadConstraints": "kubernetes.podspec-topologyspreadconstraints",
    "hostAliases": "kubernetes.podspec-hostaliases",
    "nodeSelector": "kubernetes.podspec-nodeselector",
    "runtimeClassName": "kubernetes.podspec-runtimeclassname",
    "tolerations": "kubernetes.podspec-tolerations",
    "securityContext": "kubernetes.podspec-securitycontext",
    "shareProcessNamespace": "kubernetes.podspec-shareprocessnamespace",
    "priorityClassName": "kubernetes.podspec-priorityclassname",
    "schedulerName": "kubernetes.podspec-schedulername",
    "initContainers": "kubernetes.podspec-init-containers",
    "dnsPolicy": "kubernetes.podspec-dnspolicy",
    "dnsConfig": "kubernetes.podspec-dnsconfig",
}
CONTAINER_ALLOWED = {
    "name", "args", "command", "env", "workingDir", "envFrom", "image", "imagePullPolicy", "livenessProbe",
    "ports", "readinessProbe", "resources", "securityContext", "startupProbe", "terminationMessagePath",
    "terminationMessagePolicy", "volumeMounts",
}  # fmt: skip
SECURITY_ALLOWED = {
    "capabilities", "readOnlyRootFilesystem", "runAsUser", "runAsGroup", "runAsNonRoot",
    "allowPrivilegeEscalation", "seccompProfile", "privileged",
}  # fmt: skip
POD_SECURITY_ALLOWED = {"runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup", "supplementalGroups", "seccompProfile"}
RESERVED_ENV = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}
RESERVED_PORTS = {8012, 8013, 8022, 9090, 9091, 8008}
RESERVED_PATHS = {"/", "/dev", "/dev/log"}
PORT_NAMES = {"", "h2c", "http1"}
VOLUME_FEATURES = {"emptyDir": None, "persistentVolumeClaim": "kubernetes.podspec-persistent-volume-claim"}
ALWAYS_VOLUMES = {"secret", "configMap", "projected"}


def knative_template(predictor: dict[str, Any], *, storage_uris_init: bool) -> dict[str, Any]:
    """The pod spec of the Knative Service KServe creates for a Serverless predictor."""
    pod = {k: v for k, v in predictor.items() if k not in KSERVE_FIELDS}
    if storage_uris_init and predictor.get("storageUris"):
        init = {"name": "storage-initializer", "image": "kserve/storage-initializer:v0.16.0", "args": []}
        pod["initContainers"] = [*pod.get("initContainers", []), init]
    return pod


def rejections(pod: dict[str, Any], features: set[str]) -> list[str]:
    """Why Knative's webhook would reject the pod template, with these feature flags enabled."""
    out: list[str] = []
    for key in pod:
        if key in POD_ALLOWED:
            continue
        if key == "automountServiceAccountToken":
            if pod[key] is not False:
                out.append("automountServiceAccountToken may only be set to false")
            continue
        flag = POD_FEATURES.get(key)
        if flag is None:
            out.append(f"must not set the field(s): {key}")
        elif flag not in features:
            out.append(f"must not set the field(s): {key} (needs {flag})")
    if "securityContext" in pod and "kubernetes.podspec-securitycontext" in features:
        for key in pod["securityContext"]:
            if key not in POD_SECURITY_ALLOWED:
                out.append(f"must not set the field(s): securityContext.{key}")
    for v in pod.get("volumes", []):
        for kind in (k for k in v if k != "name"):
            if kind in ALWAYS_VOLUMES:
                continue
            if kind not in VOLUME_FEATURES or (VOLUME_FEATURES[kind] and VOLUME_FEATURES[kind] not in features):
                out.append(f"volume {v['name']}: {kind} is not allowed")
    containers = list(pod.get("containers", []))
    ports = [p for c in containers for p in c.get("ports", [])]
    if len(ports) > 1:
        out.append("more than one container port is set")
    for p in ports:
        if p.get("name", "") not in PORT_NAMES:
            out.append(f"port name {p.get('name')!r} must be one of h2c, http1 or empty")
        if p.get("containerPort") in RESERVED_PORTS:
            out.append(f"{p['containerPort']} is a reserved port")
    for c in [*containers, *pod.get("initContainers", [])]:
        where = c.get("name")
        if where == "queue-proxy":
            out.append(f"{where!r} is a reserved container name")
        for key in c:
            if key not in CONTAINER_ALLOWED:
                out.append(f"{where}: must not set the field(s): {key}")
        for env in c.get("env", []):
            if env["name"] in RESERVED_ENV:
                out.append(f"{where}: {env['name']!r} is a reserved environment variable")
        for mount in c.get("volumeMounts", []):
            if mount["mountPath"].rstrip("/") in RESERVED_PATHS or mount["mountPath"] == "/":
                out.append(f"{where}: mountPath {mount['mountPath']!r} is a reserved path")
        sc = c.get("securityContext", {})
        for key in sc:
            if key not in SECURITY_ALLOWED:
                out.append(f"{where}: must not set the field(s): securityContext.{key}")
        if sc.get("privileged") is True:
            out.append(f"{where}: privileged may only be set to false")
        if sc.get("capabilities", {}).get("add") and "kubernetes.containerspec-addcapabilities" not in features:
            out.append(f"{where}: capabilities.add needs kubernetes.containerspec-addcapabilities")
    if pod.get("initContainers") and "kubernetes.podspec-init-containers" not in features:
        out.append(
            f"pod spec support for init-containers is off, but found {len(pod['initContainers'])} init containers"
        )
    return out
