"""ExperimentTracker with backend="mlflow", target="kubernetes": the MLflow Helm chart, pinned.

The chart is community-charts/mlflow (https://community-charts.github.io/helm-charts), the
maintained chart with a values schema, first-class basic auth with an existing admin Secret, a
PostgreSQL backend from an existing Secret, S3 artifacts through a service-account role and a
ServiceMonitor. MLflow's own chart (oci://ghcr.io/mlflow/charts/mlflow, 0.1.x) has no auth
settings and no values schema yet. `chart_values` uses only keys the pinned chart defines; the
tests check them against its values.schema.json.

Around the release: the artifact bucket (the platform's secure defaults) reached through workload
identity (IRSA or EKS Pod Identity; no static keys), the backend store (RDS PostgreSQL, or a
reported in-cluster PostgreSQL), the basic-auth admin with a generated password in a Secret, a
NetworkPolicy admitting the platform's namespaces and Prometheus, and, per consuming training
namespace, a Secret with the credentials its jobs use (`wire`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from mlplatform.components import charts, tracking_wiring
from mlplatform.components.k8s import common
from mlplatform.components.k8s.mlflow_backing import (
    DATABASE,
    AwsPlacement,
    Identity,
    artifact_bucket,
    in_cluster_database,
    rds_database,
    server_role,
    sync_database_secret,
)
from mlplatform.components.k8s.synced_secret import REQUIRES
from mlplatform.components.tracking_wiring import JobTarget, TrackingWiring
from mlplatform.spec.experiment_tracker import ExperimentTracker as TrackerSpec

CHART = charts.MLFLOW.chart
CHART_VERSION = charts.MLFLOW.version
CHART_REPO = str(charts.MLFLOW.repository)
IMAGE, APP_VERSION = charts.MLFLOW_IMAGE  # the chart's default image, pinned to its appVersion
UID = 1001  # the image's user, as the chart's default security context says
CONTAINER_PORT = 5000
SERVICE_PORT = 80
ADMIN_USER = "admin"
ARTIFACTS_PREFIX = "mlflow"
METRICS_DIR = "/mlflow/metrics"  # where the chart's --expose-prometheus writes (root fs is read-only)


@dataclass(frozen=True)
class Database:
    """Where the backend store is and which Secret (keys username, password, password-url) reaches it."""

    host: pulumi.Input[str]
    port: pulumi.Input[int]
    name: str
    secret: str
    depends_on: list[pulumi.Resource] = field(default_factory=list)


@dataclass
class MlflowServerArgs:
    spec: TrackerSpec
    scope: common.Scope
    aws: AwsPlacement
    identity: Identity
    storage_class: str = "gp2"
    prometheus_namespace: str = "monitoring"
    prometheus_labels: dict[str, str] = field(default_factory=dict)


def allowed_hosts(release: str, namespace: str) -> list[str]:
    """Host headers MLflow's host validation accepts: the Service's names (from the jobs), and
    pod IPs of private ranges (probes, Prometheus). Setting the list replaces MLflow's default."""
    names = [
        release,
        f"{release}.{namespace}",
        f"{release}.{namespace}.svc",
        f"{release}.{namespace}.svc.cluster.local",
    ]
    private = ["10.*", "192.168.*", *[f"172.{i}.*" for i in range(16, 32)]]
    return [*names, *[f"{n}:*" for n in names], *private]


def chart_values(a: MlflowServerArgs, release: str, admin_secret: str, bucket: Any, db: Database) -> dict[str, Any]:
    """Values for the pinned chart; every key is one its values.yaml defines."""
    spec, ns = a.spec, a.scope.namespace
    auth = "authentication" not in spec.opt_out
    # The service account is the program's (made before the secrets synced as it), not the chart's.
    service_account: dict[str, Any] = {"create": False, "automount": False, "name": release}
    values: dict[str, Any] = {
        "replicaCount": spec.replicas,
        "image": {"repository": IMAGE, "tag": APP_VERSION, "pullPolicy": "IfNotPresent"},
        "fullnameOverride": release,
        "serviceAccount": service_account,
        "podSecurityContext": {**common.pod_security(UID), "fsGroupChangePolicy": "OnRootMismatch"},
        "securityContext": common.container_security(UID),
        "service": {"type": "ClusterIP", "port": SERVICE_PORT, "containerPort": CONTAINER_PORT},
        "telemetry": {"enabled": False},
        "backendStore": {
            "databaseMigration": True,
            "databaseConnectionCheck": True,
            "postgres": {"enabled": True, "host": db.host, "port": db.port, "database": db.name},
            "existingDatabaseSecret": {"name": db.secret, "usernameKey": "username", "passwordKey": "password"},
        },
        # Proxied artifacts: clients upload through the server, which alone holds the S3 role.
        "artifactRoot": {
            "proxiedArtifactStorage": True,
            "s3": {"enabled": True, "bucket": bucket, "path": ARTIFACTS_PREFIX},
        },
        "auth": {
            "enabled": auth,
            "existingAdminSecret": {"name": admin_secret, "usernameKey": "username", "passwordKey": "password"},
            "defaultPermission": "READ",
            # Users and permissions in the same PostgreSQL database (own tables, alembic_version_auth).
            "postgres": {
                "enabled": auth,
                "host": db.host,
                "port": db.port,
                "database": db.name,
                # The chart writes the auth database URI with sed; the URL-encoded password survives both.
                "existingSecret": {"name": db.secret, "usernameKey": "username", "passwordKey": "password-url"},
            },
        },
        "extraEnvVars": {"AWS_DEFAULT_REGION": a.aws.region},
        "serverAllowedHosts": allowed_hosts(release, ns),
        "resources": common.resources(spec.cpu, spec.memory),
        "serviceMonitor": {
            "enabled": True,
            "useServicePort": True,  # `targetPort: http` would name no container port
            "namespace": ns,
            "interval": "30s",
            "telemetryPath": "/metrics",
            "labels": dict(a.prometheus_labels),
        },
        "extraVolumes": [{"name": "metrics", "emptyDir": {"sizeLimit": "256Mi"}}],
        "extraVolumeMounts": [{"name": "metrics", "mountPath": METRICS_DIR}],
        "podAnnotations": {},
    }
    return values


class MlflowServer(pulumi.ComponentResource):
    """Outputs: `tracking_uri`, `release`, `chart`, `chart_version`, `admin_secret`, `database_host`."""

    def __init__(self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:ExperimentTracker", name, None, opts)
        spec, scope = args.spec, args.scope
        self.spec = spec
        self.release_name = scope.names.tracking_server(spec.name)
        self.scope = scope
        ns = scope.namespace
        child = common.child_options(self, opts)
        labels = scope.labels(name=spec.name, instance=self.release_name, component="experiment-tracker")
        release = self.release_name
        self.bucket = artifact_bucket(self, name, spec.name, args.aws)
        db_secret = f"{release}-db"
        rds = None
        if spec.database == "rds":
            rds = rds_database(
                self,
                name,
                spec.name,
                args.aws,
                spec.database_instance_class,
                spec.database_storage_gb,
                spec.database_multi_az,
            )
        self.role = server_role(
            self, name, spec.name, args.aws, args.identity, ns, release, self.bucket, rds.secret_arn if rds else None
        )
        annotations = {} if args.identity.pod_identity_cluster else {"eks.amazonaws.com/role-arn": self.role.arn}
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={"name": release, "namespace": ns, "labels": dict(labels), "annotations": annotations},
            automount_service_account_token=False,
            opts=child,
        )
        after_sa = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.service_account]))
        if rds is not None:
            pulumi.log.info(f"ExperimentTracker '{spec.name}': the database password is synced by the {REQUIRES}", self)
            waits = sync_database_secret(self, name, rds, ns, db_secret, args.aws.region, release, labels, after_sa)
            self.database = Database(rds.instance.address, rds.instance.port, DATABASE, db_secret, waits)
        else:
            pulumi.log.warn(
                f"ExperimentTracker '{spec.name}': MLflow's backend store is an in-cluster PostgreSQL pod "
                "(database='in_cluster'); no managed backups or failover",
                self,
            )
            host, waits = in_cluster_database(
                self, name, scope, release, db_secret, args.storage_class, spec.database_storage_gb, child
            )
            self.database = Database(host, 5432, DATABASE, db_secret, waits)
        self.password = random.RandomPassword(
            f"{name}-admin-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        self.admin_secret_name = f"{self.release_name}-admin"
        self.admin_secret = k8s.core.v1.Secret(
            f"{name}-admin",
            metadata={"name": self.admin_secret_name, "namespace": ns, "labels": dict(labels)},
            type="Opaque",
            string_data={"username": ADMIN_USER, "password": self.password.result},
            opts=child,
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=self.release_name,
            namespace=ns,
            chart=CHART,
            version=CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO),
            values=chart_values(args, release, self.admin_secret_name, self.bucket.name, self.database),
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,  # database migration runs in an init container on first start
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(depends_on=[self.admin_secret, self.service_account, *self.database.depends_on]),
            ),
        )
        # The chart's selector labels (app.kubernetes.io/name and instance of the release).
        pods = {"app.kubernetes.io/name": CHART, "app.kubernetes.io/instance": self.release_name}
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata={"name": self.release_name, "namespace": ns, "labels": dict(labels)},
            spec={
                "podSelector": {"matchLabels": pods},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": scope.platform_labels()}},
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": args.prometheus_namespace}
                                }
                            },
                        ],
                        "ports": [{"protocol": "TCP", "port": CONTAINER_PORT}],
                    }
                ],
            },
            opts=child,
        )
        self.tracking_uri = tracking_wiring.mlflow_service_uri(scope.names, ns, spec.name)
        self.register_outputs(
            {
                "tracking_uri": self.tracking_uri,
                "release": self.release_name,
                "chart": f"{CHART_REPO} {CHART} {CHART_VERSION}",
                "chart_version": CHART_VERSION,
                "admin_secret": self.admin_secret_name,
                "database_host": self.database.host,
                "artifact_bucket": self.bucket.name,
            }
        )

    def wire(self, job: JobTarget) -> TrackingWiring:
        """Credentials for one training namespace (a Secret there: pods cannot read across
        namespaces) and the environment variables its jobs get."""
        wiring = tracking_wiring.self_hosted_mlflow(self.spec, job.cluster, self.tracking_uri)
        if wiring.secret_env:
            secret = wiring.secret_env["MLFLOW_TRACKING_USERNAME"].secret
            k8s.core.v1.Secret(
                f"{self._name}-auth-{job.cluster}",
                metadata={
                    "name": secret,
                    "namespace": job.namespace,
                    "labels": self.scope.labels(name=secret, instance=secret, component="experiment-tracker"),
                },
                type="Opaque",
                string_data={"username": ADMIN_USER, "password": self.password.result},
                opts=pulumi.ResourceOptions(parent=self, provider=job.provider, depends_on=job.depends_on),
            )
        return wiring
