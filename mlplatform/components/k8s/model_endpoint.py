"""ModelEndpoint on Kubernetes: a hardened Deployment with its Service, autoscaling, disruption
budget and network policy, or a KServe InferenceService.

The serving container is expected to speak the Open Inference Protocol (KServe v2): health at
/v2/health/live and /v2/health/ready and Prometheus metrics at /metrics on its port. The
promoted model version comes from stack config: a plain Deployment fetches it in an init
container that checks its SHA-256 before the server starts; KServe downloads it from the
InferenceService's storage URI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components.k8s import common
from mlplatform.spec.model_endpoint import AllAtOnce, Canary, Linear
from mlplatform.spec.model_endpoint import ModelEndpoint as EndpointSpec
from mlplatform.stack_config import PromotedModel

MODEL_DIR = "/mnt/models"
MODEL_VOLUME = "model"
# Downloads the artifact in the init container; pinned like every image here.
MODEL_FETCH_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.17.0"
LIVE_PATH = "/v2/health/live"
READY_PATH = "/v2/health/ready"
SERVICE_PORT = 80
# HPA target: average CPU utilisation of the pods, relative to their requests.
CPU_TARGET_PERCENT = 70
# Where Prometheus runs (kube-prometheus-stack's usual namespace); let in to scrape /metrics.
PROMETHEUS_NAMESPACE = "monitoring"

_FETCH_SCRIPT = """set -eu
aws s3 cp --only-show-errors "$MODEL_URI" "$MODEL_DIR/$MODEL_FILE"
echo "$MODEL_SHA256  $MODEL_DIR/$MODEL_FILE" | sha256sum -c -
"""


@dataclass(frozen=True)
class ModelEndpointArgs:
    spec: EndpointSpec
    model: PromotedModel
    scope: common.Scope
    region: str
    monitored: bool = False  # a MonitoringStack scrapes it: let Prometheus in


def max_surge(deployment: AllAtOnce | Canary | Linear) -> str:
    """New pods started at once during a rollout; with maxUnavailable 0 the old ones stay
    until the new ones are ready, so serving capacity never drops below the current replicas."""
    if isinstance(deployment, Canary):
        return f"{deployment.percent}%"
    if isinstance(deployment, Linear):
        return f"{deployment.step_percent}%"
    return "100%"


def canary_traffic_percent(deployment: AllAtOnce | Canary | Linear) -> int | None:
    """KServe's share of traffic for a new revision; omitted (all at once) for AllAtOnce."""
    if isinstance(deployment, Canary):
        return deployment.percent
    if isinstance(deployment, Linear):
        return deployment.step_percent
    return None


class ModelEndpoint(pulumi.ComponentResource):
    """One served model. Outputs: `namespace`, `service` (in-cluster host), `kind`."""

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:ModelEndpoint", name, None, opts)
        spec, model, scope = args.spec, args.model, args.scope
        where = f"ModelEndpoint '{spec.name}'"
        field = "image" if spec.image else f"stack config mlplatform:models.{spec.model}.image"
        self.image = common.pinned_image(spec.image or model.image, f"{where}, {field}")
        self.physical = scope.names.endpoint(spec.name)
        self.namespace = scope.namespace
        self.labels = scope.labels(
            name=spec.name, instance=self.physical, component="model-endpoint", version=model.version
        )
        self.spec = spec
        self._spec, self._model, self._args = spec, model, args
        child = common.child_options(self, opts)

        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=self._meta(),
            automount_service_account_token=False,
            opts=child,
        )
        if spec.kserve:
            self.inference_service = k8s.apiextensions.CustomResource(
                f"{name}-isvc",
                api_version="serving.kserve.io/v1beta1",
                kind="InferenceService",
                metadata=self._meta(
                    # Reachable inside the cluster only; an ingress is a separate, explicit choice.
                    labels={"networking.knative.dev/visibility": "cluster-local"},
                    annotations={"serving.kserve.io/enable-prometheus-scraping": "true"},
                ),
                spec={"predictor": self._predictor()},
                opts=child,
            )
            host = f"{self.physical}-predictor.{self.namespace}.svc.cluster.local"
            kind = "InferenceService"
        else:
            self._plain_workload(name, child)
            host = f"{self.physical}.{self.namespace}.svc.cluster.local"
            kind = "Deployment"
        self.service_host = host
        self.register_outputs({"namespace": self.namespace, "service": host, "kind": kind})

    # --- shared pieces ---------------------------------------------------------------
    def _meta(self, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": self.physical,
            "namespace": self.namespace,
            "labels": {**self.labels, **(labels or {})},
        }
        if annotations:
            meta["annotations"] = annotations
        return meta

    def _model_annotations(self) -> dict[str, str]:
        return {
            "mlplatform.io/model": self._spec.model,
            "mlplatform.io/model-uri": self._model.uri,
            "mlplatform.io/model-sha256": self._model.sha256,
        }

    def _server(self, port: int | str, mounts: list[dict[str, Any]]) -> dict[str, Any]:
        spec, model = self._spec, self._model
        return {
            "image": self.image,
            "env": [
                {"name": "MODEL_NAME", "value": spec.model},
                {"name": "MODEL_VERSION", "value": model.version},
                {"name": "MODEL_DIR", "value": MODEL_DIR},
                {"name": "PORT", "value": str(spec.port)},
            ],
            "resources": common.resources(spec.cpu, spec.memory, spec.gpus),
            # Startup covers slow model loading; liveness then restarts a wedged server.
            "startupProbe": common.http_probe(READY_PATH, port, period=5, failures=60),
            "livenessProbe": common.http_probe(LIVE_PATH, port),
            "readinessProbe": common.http_probe(READY_PATH, port, period=5),
            "securityContext": common.container_security(),
            "volumeMounts": [common.tmp_mount(), *mounts],
        }

    def _gpu_scheduling(self) -> dict[str, Any]:
        if not self._spec.gpus:
            return {}
        return {
            "nodeSelector": dict(common.GPU_NODE_SELECTOR),
            "tolerations": [dict(t) for t in common.GPU_TOLERATIONS],
        }

    # --- KServe ----------------------------------------------------------------------
    def _predictor(self) -> dict[str, Any]:
        spec = self._spec
        # Knative allows one port, named http1 or h2c, and probes on that port only.
        server = {
            "name": "kserve-container",
            **self._server(spec.port, []),
            "ports": [{"name": "http1", "containerPort": spec.port, "protocol": "TCP"}],
        }
        predictor: dict[str, Any] = {
            "minReplicas": spec.min_instances,
            "maxReplicas": spec.max_instances,
            "serviceAccountName": self.physical,
            "automountServiceAccountToken": False,
            "securityContext": common.pod_security(),
            "annotations": self._model_annotations(),
            "labels": dict(self.labels),
            "storageUris": [{"uri": self._model.uri, "mountPath": MODEL_DIR}],
            "containers": [server],
            "volumes": [common.tmp_volume()],
            **self._gpu_scheduling(),
        }
        percent = canary_traffic_percent(spec.deployment)
        if percent is not None:
            predictor["canaryTrafficPercent"] = percent
        return predictor

    # --- plain workloads -------------------------------------------------------------
    def _plain_workload(self, name: str, child: pulumi.ResourceOptions) -> None:
        spec = self._spec
        sel = common.selector(self.labels)
        autoscaled = spec.max_instances > spec.min_instances
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=self._meta(),
            spec=self._deployment_spec(sel),
            # The HPA owns the replica count once it exists; `pulumi up` must not reset it.
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(ignore_changes=["spec.replicas"] if autoscaled else None)
            ),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=self._meta(),
            spec={
                "type": "ClusterIP",
                "selector": sel,
                "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
            },
            opts=child,
        )
        if autoscaled:
            self.autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=self._meta(),
                spec={
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": self.physical},
                    "minReplicas": spec.min_instances,
                    "maxReplicas": spec.max_instances,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": CPU_TARGET_PERCENT},
                            },
                        }
                    ],
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
                },
                opts=child,
            )
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=self._meta(),
            spec={
                "selector": {"matchLabels": sel},
                "maxUnavailable": 1,
                # A crash-looping pod must not block node drains.
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
            opts=child,
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=self._meta(),
            spec=self._network_policy(sel),
            opts=child,
        )

    def _deployment_spec(self, sel: dict[str, str]) -> dict[str, Any]:
        spec, model = self._spec, self._model
        artifact = model.uri.rstrip("/").rsplit("/", 1)[-1] or "model"
        fetch = {
            "name": "fetch-model",
            "image": MODEL_FETCH_IMAGE,
            "command": ["/bin/sh", "-c", _FETCH_SCRIPT],
            "env": [
                {"name": "MODEL_URI", "value": model.uri},
                {"name": "MODEL_SHA256", "value": model.sha256},
                {"name": "MODEL_DIR", "value": MODEL_DIR},
                {"name": "MODEL_FILE", "value": artifact},
                {"name": "AWS_REGION", "value": self._args.region},
                {"name": "HOME", "value": "/tmp"},
            ],
            "resources": common.resources("500m", "512Mi"),
            "securityContext": common.container_security(),
            "volumeMounts": [common.tmp_mount(), {"name": MODEL_VOLUME, "mountPath": MODEL_DIR}],
        }
        server = {
            "name": "server",
            **self._server("http", [{"name": MODEL_VOLUME, "mountPath": MODEL_DIR, "readOnly": True}]),
            "ports": [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}],
        }
        server["env"].append({"name": "MODEL_PATH", "value": f"{MODEL_DIR}/{artifact}"})
        return {
            "replicas": spec.min_instances,
            "revisionHistoryLimit": 5,
            "minReadySeconds": 10,
            "progressDeadlineSeconds": 900,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": max_surge(spec.deployment)},
            },
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": {"labels": dict(self.labels), "annotations": self._model_annotations()},
                "spec": {
                    "serviceAccountName": self.physical,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": common.pod_security(),
                    "terminationGracePeriodSeconds": 30,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": sel},
                        }
                    ],
                    "initContainers": [fetch],
                    "containers": [server],
                    "volumes": [
                        common.tmp_volume(),
                        {"name": MODEL_VOLUME, "emptyDir": {"sizeLimit": "20Gi"}},
                    ],
                    **self._gpu_scheduling(),
                },
            },
        }

    def _network_policy(self, sel: dict[str, str]) -> dict[str, Any]:
        """Ingress from the endpoint's own namespace and the declared callers only."""
        spec = self._spec
        port = [{"protocol": "TCP", "port": spec.port}]
        callers = [self.namespace, *(c for c in spec.allowed_callers if c != self.namespace)]
        rules: list[dict[str, Any]] = [{"from": [_namespace_peer(ns) for ns in callers], "ports": port}]
        if self._args.monitored:
            rules.append({"from": [_namespace_peer(PROMETHEUS_NAMESPACE)], "ports": port})
        return {"podSelector": {"matchLabels": sel}, "policyTypes": ["Ingress"], "ingress": rules}


def _namespace_peer(namespace: str) -> dict[str, Any]:
    # Set by Kubernetes on every namespace (1.22+): cannot be forged by a namespace's owner.
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
