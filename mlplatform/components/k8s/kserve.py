"""The KServe InferenceService of a ModelEndpoint, as the declared KServe version and mode accept it.

Serverless mode hands the predictor's pod spec to Knative, whose webhook rejects what its
feature flags do not allow (knative/serving pkg/apis/serving: fieldmask.go, k8s_validation.go):
the reserved `PORT` variable, more than one container port, a pod-level securityContext
(`kubernetes.podspec-securitycontext`), init containers (`kubernetes.podspec-init-containers`,
which `storageUris` adds since KServe builds that init container into the Knative template),
priorityClassName, nodeSelector and tolerations (each behind its flag). RawDeployment renders
a plain Deployment, Service and HPA, where none of that applies.

The model comes from the registry through KServe's storage initializer: `storageUris` on KServe
0.16+ where the mode allows its init container, else the legacy `STORAGE_URI` variable, which
KServe's pod webhook turns into an init container after Knative's validation. Both download into
/mnt/models and unpack a .tar.gz there (kserve_storage.py `_unpack_archive_file`).
"""

from __future__ import annotations

from typing import Any

from mlplatform.components.k8s import common
from mlplatform.spec.cluster import KServe
from mlplatform.spec.model_endpoint import ModelEndpoint as EndpointSpec

MODEL_DIR = "/mnt/models"
CONTAINER = "kserve-container"  # the name KServe's webhooks look for
SECURITY_CONTEXT = "kubernetes.podspec-securitycontext"
INIT_CONTAINERS = "kubernetes.podspec-init-containers"
PRIORITY_CLASS = "kubernetes.podspec-priorityclassname"
NODE_SELECTOR = "kubernetes.podspec-nodeselector"
TOLERATIONS = "kubernetes.podspec-tolerations"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
# Pulumi waits for the InferenceService to report Ready (custom resources are not awaited otherwise).
WAIT_FOR = {"pulumi.com/waitFor": "condition=Ready"}
# Reachable inside the cluster only; an ingress is a separate, explicit choice.
VISIBILITY = {
    "Serverless": {"networking.knative.dev/visibility": "cluster-local"},
    "RawDeployment": {"networking.kserve.io/visibility": "cluster-local"},
}
# Knative's queue-proxy listens on these in every Serverless pod (knative/serving
# pkg/networking/constants.go): 8012 HTTP/1, 8013 h2c, 8112 HTTPS, 9090 autoscaler metrics.
QUEUE_PROXY_PORTS = (8012, 8013, 8112)
AUTOSCALER_METRICS_PORT = 9090
STORAGE_URIS_SINCE = 16


def uses_storage_uris(kserve: KServe) -> bool:
    return kserve.minor >= STORAGE_URIS_SINCE and (kserve.mode == "RawDeployment" or kserve.has(INIT_CONTAINERS))


def pod_security_context_allowed(kserve: KServe) -> bool:
    return kserve.mode == "RawDeployment" or kserve.has(SECURITY_CONTEXT)


def storage_initializer_problem(kserve: KServe) -> str | None:
    """Why the storage initializer KServe injects breaks Pod Security `restricted`, or None. Its
    default ClusterStorageContainer gives it no seccomp profile, and on the webhook path no
    securityContext at all (kserve#5373 on 0.17; the fix, kserve#5855, is unreleased), unless the
    cluster patches it as Kubeflow's manifests do (declared: restricted_storage_initializer)."""
    if kserve.restricted_storage_initializer:
        return None
    return (
        "KServe injects its storage initializer without a restricted securityContext (kserve#5373); "
        "declare KServe(restricted_storage_initializer=True) once the cluster's ClusterStorageContainer sets one"
    )


def inference_service_spec(
    spec: EndpointSpec,
    *,
    kserve: KServe,
    image: str,
    model_uri: str,
    model_version: str,
    service_account: str,
    priority_class: str,
    pod_labels: dict[str, str],
    pod_annotations: dict[str, str],
) -> dict[str, Any]:
    serverless = kserve.mode == "Serverless"
    env = [
        {"name": "MODEL_NAME", "value": spec.model},
        {"name": "MODEL_VERSION", "value": model_version},
        {"name": "MODEL_DIR", "value": MODEL_DIR},
    ]
    if not uses_storage_uris(kserve):
        env.append({"name": "STORAGE_URI", "value": model_uri})
    ports = [{"name": "http1" if serverless else "http", "containerPort": spec.port, "protocol": "TCP"}]
    if not serverless and spec.metrics.port != spec.port:
        ports.append({"name": "metrics", "containerPort": spec.metrics.port, "protocol": "TCP"})
    server = {
        "name": CONTAINER,
        "image": image,
        "env": env,
        "ports": ports,
        "resources": common.resources(spec.cpu, spec.memory, spec.gpus),
        **common.probes(spec.port),
        "securityContext": common.container_security(),
        "volumeMounts": [common.tmp_mount()],
    }
    predictor: dict[str, Any] = {
        "minReplicas": spec.min_instances,
        "maxReplicas": spec.max_instances,
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "annotations": dict(pod_annotations),
        "labels": dict(pod_labels),
        "containers": [server],
        "volumes": [common.tmp_volume()],
    }
    if uses_storage_uris(kserve):
        predictor["storageUris"] = [{"uri": model_uri, "mountPath": MODEL_DIR}]
    if pod_security_context_allowed(kserve):
        predictor["securityContext"] = common.pod_security()
    if not serverless or kserve.has(PRIORITY_CLASS):
        predictor["priorityClassName"] = priority_class
    if spec.gpus:
        # Validation makes sure a Serverless cluster allows both (kubernetes.podspec-nodeselector/-tolerations).
        predictor.update(common.gpu_scheduling())
    return {"predictor": predictor}


def metadata_annotations(kserve: KServe) -> dict[str, str]:
    return {DEPLOYMENT_MODE_ANNOTATION: kserve.mode, **WAIT_FOR}


def deployment_pattern(physical: str, mode: str) -> str:
    """Regex of the Deployments KServe creates for the predictor: one per Knative revision in
    Serverless mode (<isvc>-predictor-00001-deployment), one named <isvc>-predictor (with an
    HPA of that name) in RawDeployment mode."""
    if mode == "Serverless":
        return f"{physical}-predictor-[0-9]+-deployment"
    return f"{physical}-predictor"
