"""ModelEndpoint on Kubernetes: a hardened Deployment with its Service, autoscaling, disruption
budget and network policy, or a KServe InferenceService for the declared KServe (see kserve.py).

The serving container is expected to speak the Open Inference Protocol (KServe v2): health at
/v2/health/live and /v2/health/ready on its port, and the Prometheus metrics its `metrics`
contract names. Every pod that reads the registry runs as a ServiceAccount with its own IAM
role (workload_identity.py). The Deployment path downloads the promoted artifact, checks its
SHA-256, and unpacks it into /mnt/models exactly as KServe's storage initializer does, so one
image serves either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components.k8s import common, kserve, network_policy, workload_identity
from mlplatform.spec.cluster import KServe
from mlplatform.spec.model_endpoint import ModelEndpoint as EndpointSpec
from mlplatform.spec.platform import KubernetesCluster
from mlplatform.stack_config import PromotedModel

MODEL_DIR = kserve.MODEL_DIR
MODEL_VOLUME = "model"
DOWNLOAD_DIR = f"{MODEL_DIR}/.download"
# Pinned like every image here: the AWS CLI downloads, Python checks and unpacks.
MODEL_FETCH_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.17.0"
MODEL_UNPACK_IMAGE = "docker.io/library/python:3.12.11-slim-bookworm"
SERVICE_PORT = 80
# HPA target: average CPU utilisation of the pods, relative to their requests.
CPU_TARGET_PERCENT = 70
# A rollout that makes no progress for this long is failed by Kubernetes; Pulumi waits longer
# than that (its default for a Deployment is 10 minutes), so it reports the failure.
PROGRESS_DEADLINE_SECONDS = 900
AWAIT_TIMEOUT = "20m"

_FETCH_SCRIPT = """set -eu
mkdir -p "$DOWNLOAD_DIR"
aws s3 cp --only-show-errors "$MODEL_URI" "$DOWNLOAD_DIR/$MODEL_FILE"
"""

# The artifact's SHA-256 is checked before anything is unpacked. Archives are unpacked the way
# KServe's storage initializer does it (mimetypes decides; tarfile's "data" filter refuses
# absolute paths, `..` and devices), then removed; any other file is kept as /mnt/models/<file>.
UNPACK_SCRIPT = """
import hashlib, mimetypes, os, pathlib, sys, tarfile, zipfile
dest = pathlib.Path(os.environ["MODEL_DIR"])
src = pathlib.Path(os.environ["DOWNLOAD_DIR"], os.environ["MODEL_FILE"])
digest = hashlib.sha256()
with src.open("rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        digest.update(chunk)
if digest.hexdigest() != os.environ["MODEL_SHA256"]:
    sys.exit(f"{src.name}: SHA-256 {digest.hexdigest()} does not match the promoted {os.environ['MODEL_SHA256']}")
kind, _ = mimetypes.guess_type(src.name)
if kind == "application/x-tar":
    with tarfile.open(src, "r", encoding="utf-8") as archive:
        archive.extractall(dest, filter="data")
    src.unlink()
elif kind == "application/zip":
    with zipfile.ZipFile(src) as archive:
        archive.extractall(dest)
    src.unlink()
else:
    src.rename(dest / src.name)
src.parent.rmdir()
"""


@dataclass(frozen=True)
class ModelEndpointArgs:
    spec: EndpointSpec
    model: PromotedModel
    scope: common.Scope
    cluster: KubernetesCluster  # what the cluster offers (Platform.kubernetes)
    registry: workload_identity.Registry
    identity: workload_identity.Identity
    priority_class: str  # the platform's serving PriorityClass
    role_name: str
    tags: dict[str, str] = field(default_factory=dict)
    monitored: bool = False  # a MonitoringStack scrapes it: let Prometheus in
    redis: list[tuple[dict[str, str], int]] = field(default_factory=list)  # feature stores it may reach


class ModelEndpoint(pulumi.ComponentResource):
    """One served model. Outputs: `namespace`, `service` (in-cluster host), `kind`, `role_arn`."""

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:ModelEndpoint", name, None, opts)
        spec, model, scope = args.spec, args.model, args.scope
        where = f"ModelEndpoint '{spec.name}'"
        field_name = "image" if spec.image else f"stack config mlplatform:models.{spec.model}.image"
        self.image = common.pinned_image(spec.image or model.image, f"{where}, {field_name}")
        self.physical = scope.names.endpoint(spec.name)
        self.namespace = scope.namespace
        self.labels = scope.labels(
            name=spec.name, instance=self.physical, component="model-endpoint", version=model.version
        )
        self.spec = spec
        self.kserve: KServe | None = args.cluster.kserve if spec.kserve else None
        self._spec, self._model, self._args = spec, model, args
        child = common.child_options(self, opts)

        self.reader = workload_identity.registry_reader(
            name,
            role_name=args.role_name,
            identity=args.identity,
            namespace=self.namespace,
            service_account=self.physical,
            registry=args.registry,
            model=spec.model,
            kserve=spec.kserve,
            tags=args.tags,
            parent=self,
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=self._meta(annotations=self.reader.annotations),
            automount_service_account_token=False,
            opts=child,
        )
        # Pods start only once their ServiceAccount and its role exist: KServe reads the account's
        # annotations when it injects the storage initializer (and skips them if it is missing).
        workload = pulumi.ResourceOptions.merge(
            child,
            pulumi.ResourceOptions(
                depends_on=[self.service_account, *self.reader.resources],
                custom_timeouts=pulumi.CustomTimeouts(create=AWAIT_TIMEOUT, update=AWAIT_TIMEOUT),
            ),
        )
        sel = common.selector(self.labels)
        if self.kserve is not None:
            self.inference_service = k8s.apiextensions.CustomResource(
                f"{name}-isvc",
                api_version="serving.kserve.io/v1beta1",
                kind="InferenceService",
                metadata=self._meta(
                    labels=kserve.VISIBILITY[self.kserve.mode], annotations=kserve.metadata_annotations(self.kserve)
                ),
                spec=kserve.inference_service_spec(
                    spec,
                    kserve=self.kserve,
                    image=self.image,
                    model_uri=model.uri,
                    model_version=model.version,
                    service_account=self.physical,
                    priority_class=args.priority_class,
                    pod_labels=self.labels,
                    pod_annotations=self._model_annotations(),
                ),
                # KServe refuses to change an InferenceService's deployment mode: replace it.
                opts=pulumi.ResourceOptions.merge(
                    workload,
                    pulumi.ResourceOptions(replace_on_changes=["metadata.annotations"], delete_before_replace=True),
                ),
            )
            host = f"{self.physical}-predictor.{self.namespace}.svc.cluster.local"
            kind = "InferenceService"
        else:
            self._plain_workload(name, sel, child, workload)
            host = f"{self.physical}.{self.namespace}.svc.cluster.local"
            kind = "Deployment"
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=self._meta(),
            spec=network_policy.policy_spec(sel, self._peers()),
            opts=child,
        )
        self.service_host = host
        self.register_outputs(
            {"namespace": self.namespace, "service": host, "kind": kind, "role_arn": self.reader.role.arn}
        )

    # --- shared pieces ---------------------------------------------------------------
    def _meta(
        self, labels: dict[str, str] | None = None, annotations: Mapping[str, pulumi.Input[str]] | None = None
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": self.physical,
            "namespace": self.namespace,
            "labels": {**self.labels, **(labels or {})},
        }
        if annotations:
            meta["annotations"] = dict(annotations)
        return meta

    def _model_annotations(self) -> dict[str, str]:
        return {
            "mlplatform.io/model": self._spec.model,
            "mlplatform.io/model-uri": self._model.uri,
            "mlplatform.io/model-sha256": self._model.sha256,
        }

    def _peers(self) -> network_policy.Peers:
        spec, args = self._spec, self._args
        serverless = self.kserve is not None and self.kserve.mode == "Serverless"
        knative = None
        if serverless and self.kserve is not None:
            knative = (
                self.kserve.serving_namespace,
                self.kserve.ingress_namespace,
                kserve.QUEUE_PROXY_PORTS,
                kserve.AUTOSCALER_METRICS_PORT,
            )
        return network_policy.Peers(
            namespace=self.namespace,
            serving_port=spec.port,
            metrics_port=spec.metrics.port,
            callers=list(spec.allowed_callers),
            prometheus_namespace=args.cluster.prometheus.namespace if args.monitored else None,
            knative=knative,
            pod_identity=isinstance(args.identity, workload_identity.PodIdentity),
            redis=list(args.redis),
        )

    # --- plain workloads -------------------------------------------------------------
    def _plain_workload(
        self, name: str, sel: dict[str, str], child: pulumi.ResourceOptions, workload: pulumi.ResourceOptions
    ) -> None:
        spec = self._spec
        autoscaled = spec.max_instances > spec.min_instances
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=self._meta(),
            spec=self._deployment_spec(sel),
            # The HPA owns the replica count once it exists; `pulumi up` must not reset it.
            opts=pulumi.ResourceOptions.merge(
                workload, pulumi.ResourceOptions(ignore_changes=["spec.replicas"] if autoscaled else None)
            ),
        )
        ports = [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}]
        if spec.metrics.port != spec.port:
            ports.append({"name": "metrics", "port": spec.metrics.port, "targetPort": "metrics", "protocol": "TCP"})
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=self._meta(),
            spec={"type": "ClusterIP", "selector": sel, "ports": ports},
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

    def _deployment_spec(self, sel: dict[str, str]) -> dict[str, Any]:
        spec, model = self._spec, self._model
        artifact = model.uri.rstrip("/").rsplit("/", 1)[-1] or "model"
        model_mount = {"name": MODEL_VOLUME, "mountPath": MODEL_DIR}
        files = [
            {"name": "MODEL_DIR", "value": MODEL_DIR},
            {"name": "DOWNLOAD_DIR", "value": DOWNLOAD_DIR},
            {"name": "MODEL_FILE", "value": artifact},
            {"name": "HOME", "value": "/tmp"},
        ]
        fetch = {
            "name": "fetch-model",
            "image": MODEL_FETCH_IMAGE,
            "command": ["/bin/sh", "-c", _FETCH_SCRIPT],
            "env": [
                {"name": "MODEL_URI", "value": model.uri},
                {"name": "AWS_REGION", "value": self._args.registry.region},
                {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
                *files,
            ],
            "resources": common.resources("500m", "512Mi"),
            "securityContext": common.container_security(),
            "volumeMounts": [common.tmp_mount(), model_mount],
        }
        unpack = {
            "name": "unpack-model",
            "image": MODEL_UNPACK_IMAGE,
            "command": ["python3", "-I", "-c", UNPACK_SCRIPT],
            "env": [
                {"name": "MODEL_SHA256", "value": model.sha256},
                {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
                *files,
            ],
            "resources": common.resources("500m", "512Mi"),
            "securityContext": common.container_security(),
            "volumeMounts": [common.tmp_mount(), model_mount],
        }
        ports = [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}]
        if spec.metrics.port != spec.port:
            ports.append({"name": "metrics", "containerPort": spec.metrics.port, "protocol": "TCP"})
        server = {
            "name": "server",
            "image": self.image,
            "env": [
                {"name": "MODEL_NAME", "value": spec.model},
                {"name": "MODEL_VERSION", "value": model.version},
                {"name": "MODEL_DIR", "value": MODEL_DIR},
                {"name": "PORT", "value": str(spec.port)},
            ],
            "ports": ports,
            "resources": common.resources(spec.cpu, spec.memory, spec.gpus),
            **common.probes("http"),
            "securityContext": common.container_security(),
            "volumeMounts": [common.tmp_mount(), {**model_mount, "readOnly": True}],
        }
        pod: dict[str, Any] = {
            "serviceAccountName": self.physical,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "priorityClassName": self._args.priority_class,
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
            "initContainers": [fetch, unpack],
            "containers": [server],
            "volumes": [common.tmp_volume(), {"name": MODEL_VOLUME, "emptyDir": {"sizeLimit": "20Gi"}}],
        }
        if spec.gpus:
            pod.update(common.gpu_scheduling())
        return {
            "replicas": spec.min_instances,
            "revisionHistoryLimit": 5,
            "minReadySeconds": 10,
            "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
            # All at once, without dropping capacity: new pods start beside the old ones, which
            # stay until the new ones are ready.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "100%"}},
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": {"labels": dict(self.labels), "annotations": self._model_annotations()},
                "spec": pod,
            },
        }
