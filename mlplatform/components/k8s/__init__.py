"""Components on pulumi-kubernetes: every component whose target is kubernetes.

All of them deploy through one explicit Kubernetes provider, never the ambient default (which
would follow whatever kubeconfig context the deploying machine happens to have): either the
EKS cluster of a TrainingCluster in the same blueprint (`Platform.kubernetes.training_cluster`,
whose provider the AWS side publishes in `ctx.shared["kubernetes_providers"]`), or the cluster
the stack config names (`mlplatform:kubeconfig`, `mlplatform:kubeContext`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.components import tracking_wiring
from mlplatform.components.aws.feature_store import OfflineStoreArgs
from mlplatform.components.k8s import common, training_charts, workload_identity
from mlplatform.components.k8s.common import Scope
from mlplatform.components.k8s.experiment_tracker import MlflowServer, MlflowServerArgs
from mlplatform.components.k8s.feature_store import REDIS_PORT, FeatureStore, FeatureStoreArgs
from mlplatform.components.k8s.mlflow_backing import AwsPlacement, Identity
from mlplatform.components.k8s.model_endpoint import ModelEndpoint, ModelEndpointArgs
from mlplatform.components.k8s.monitoring_stack import MonitoringStack, MonitoringStackArgs, WatchedEndpoint
from mlplatform.components.k8s.pod_security import pod_security_level
from mlplatform.components.k8s.training_alerts import TrainingAlerts, TrainingAlertsArgs, WatchedQueue
from mlplatform.components.k8s.training_cluster import TrainingCluster, TrainingClusterArgs
from mlplatform.components.tracking_wiring import JobTarget
from mlplatform.errors import MlplatformError
from mlplatform.spec.cluster import Irsa as IrsaSpec
from mlplatform.spec.cluster import PodIdentity as PodIdentitySpec
from mlplatform.spec.experiment_tracker import ExperimentTracker as TrackerSpec
from mlplatform.spec.feature_store import FeatureStore as FeatureStoreSpec
from mlplatform.spec.model_endpoint import ModelEndpoint as EndpointSpec
from mlplatform.spec.monitoring import MonitoringStack as MonitoringSpec
from mlplatform.spec.rules import is_production
from mlplatform.spec.training_cluster import TrainingCluster as ClusterSpec

if TYPE_CHECKING:
    from mlplatform.context import ProgramContext

__all__ = [
    "FeatureStore",
    "ModelEndpoint",
    "MonitoringStack",
    "TrainingCluster",
    "build",
    "cluster_provider",
    "kubernetes_components",
]

# Where the AWS side publishes a provider per eks TrainingCluster name.
PROVIDERS_KEY = "kubernetes_providers"


def kubernetes_components(ctx: ProgramContext) -> list[Any]:
    return [c for c in ctx.platform.components if getattr(c, "target", None) == "kubernetes"]


def cluster_provider(ctx: ProgramContext) -> k8s.Provider:
    """The one provider every Kubernetes resource of this program uses: the blueprint's EKS
    cluster, or the cluster the stack config names, through the mlplatform keys or Pulumi's own
    `kubernetes:kubeconfig` / `kubernetes:context` (which an explicit provider does not read by
    itself, so they are passed on)."""
    cluster = ctx.platform.kubernetes.training_cluster
    if cluster is not None:
        published = ctx.shared.get(PROVIDERS_KEY) or {}
        if cluster not in published:
            raise MlplatformError(
                f"{ctx.blueprint}: Platform.kubernetes.training_cluster names '{cluster}', but no Kubernetes "
                f"provider was published for that eks TrainingCluster; it must be built before the "
                f"kubernetes components (ctx.shared['{PROVIDERS_KEY}']['{cluster}'])"
            )
        provider: k8s.Provider = published[cluster]
        return provider
    pulumi_config = pulumi.Config("kubernetes")
    ours, theirs = ctx.config.get("kubeContext"), pulumi_config.get("context")
    if ours and theirs and ours != theirs:
        raise MlplatformError(
            f"{ctx.blueprint} [{ctx.env}]: stack config mlplatform:kubeContext is '{ours}' but kubernetes:context "
            f"is '{theirs}'; set one of them, or the same context in both"
        )
    # A file path or the contents (credentials): a secret either way.
    kubeconfig = ctx.config.get_secret("kubeconfig") or pulumi_config.get_secret("kubeconfig")
    context = ours or theirs
    if kubeconfig is None and context is None:
        names = ", ".join(f"{type(c).__name__} '{c.name}'" for c in kubernetes_components(ctx))
        raise MlplatformError(
            f"{ctx.blueprint} [{ctx.env}]: {names} target kubernetes, and no cluster is configured: set "
            f"stack config mlplatform:kubeContext (a context of your kubeconfig) and/or mlplatform:kubeconfig "
            f"(a kubeconfig file or its contents), or kubernetes:context / kubernetes:kubeconfig, or "
            f"Platform.kubernetes.training_cluster to an eks TrainingCluster of the blueprint"
        )
    return k8s.Provider(
        f"{ctx.names.prefix}-kubernetes",
        kubeconfig=kubeconfig,
        context=context,
        enable_server_side_apply=True,
    )


def build(ctx: ProgramContext) -> None:
    """The components whose target is kubernetes, in dependency order: namespace and serving
    priority, training, features, endpoints, then monitoring of the endpoints that were built."""
    components = kubernetes_components(ctx)
    if not components:
        return
    platform = ctx.platform
    cluster = platform.kubernetes
    provider = cluster_provider(ctx)
    scope = Scope(
        platform=platform.name,
        team=platform.team,
        env=ctx.env,
        namespace=cluster.namespace or ctx.names.serving_namespace(),
    )
    level, why = pod_security_level(ctx)
    if why:
        pulumi.log.warn(
            f"Pod Security: the platform's namespaces enforce '{level}' (warn and audit 'restricted'): {why}"
        )
    namespace = k8s.core.v1.Namespace(
        f"{ctx.names.prefix}-namespace",
        metadata=scope.namespace_metadata(scope.namespace, "platform", level),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    opts = pulumi.ResourceOptions(providers=[provider], depends_on=[namespace])
    built: dict[str, Any] = {}
    clusters = [c for c in components if isinstance(c, ClusterSpec)]
    # Once per cluster: the training controllers the cluster does not declare.
    controllers = training_charts.TrainingControllers()
    if clusters:
        # One component for the cluster-wide controllers, beside the platform's components.
        equipment = pulumi.ComponentResource(
            "mlplatform:k8s:TrainingControllers", ctx.names.prefix, None, pulumi.ResourceOptions(provider=provider)
        )
        controllers = training_charts.install(
            ctx.names.prefix,
            opts=pulumi.ResourceOptions(parent=equipment),
            declared=platform.kubernetes.training,
            gpus=any(c.quota.gpus > 0 for c in clusters),
            placement=training_charts.Placement(),
            labels=scope.labels(name="training-controllers", instance=ctx.names.prefix, component="training"),
        )
        equipment.register_outputs({"charts": sorted(controllers.releases)})

    for c in components:
        if isinstance(c, ClusterSpec):
            tracking_env = tracking_wiring.runtime_env(
                platform, ctx.names, c.name, tracking_wiring.built_uris(ctx.shared)
            )
            cluster_args = TrainingClusterArgs(
                spec=c,
                scope=scope,
                controllers=controllers,
                karpenter=cluster.training.karpenter,
                pod_security_level=level,
                tracking_env=tracking_env,
            )
            trainer = built[c.name] = TrainingCluster(c.name, cluster_args, opts)
            ctx.shared.setdefault("job_targets", {})[c.name] = JobTarget(
                c.name, trainer.namespace_name, f"{trainer.namespace_name}-jobs", provider, [trainer.namespace]
            )
        elif isinstance(c, TrackerSpec) and c.backend == "mlflow":
            built[c.name] = ctx.shared.setdefault("trackers", {})[c.name] = MlflowServer(
                c.name, _mlflow_args(ctx, c, scope), opts
            )
        elif isinstance(c, FeatureStoreSpec) and c.online_store == "redis":
            for item in c.opt_out:
                pulumi.log.warn(f"FeatureStore '{c.name}': secure default '{item}' is turned off (opt_out)")
            ctx.shared.setdefault("opt_outs", []).extend((c.name, item) for item in c.opt_out)
            store_args = FeatureStoreArgs(
                spec=c,
                scope=scope,
                offline=_offline_store_args(ctx, c),
                region=ctx.shared.get("region", platform.region),
                storage_class=cluster.storage_class,
                production=is_production(ctx.env),
            )
            built[c.name] = FeatureStore(c.name, store_args, opts)

    monitored = {e for m in platform.of_kind(MonitoringSpec) if m.target == "kubernetes" for e in m.endpoints}
    endpoints: dict[str, ModelEndpoint] = {}
    served = [c for c in components if isinstance(c, EndpointSpec) and _promoted(ctx, c)]
    if served:
        priority = k8s.scheduling.v1.PriorityClass(
            f"{ctx.names.prefix}-serving-priority",
            metadata={
                "name": ctx.names.serving_priority_class(),
                "labels": scope.labels(name="serving", instance=ctx.names.prefix, component="serving"),
            },
            value=common.SERVING_PRIORITY,
            preemption_policy="PreemptLowerPriority",
            global_default=False,
            description=f"Serving pods of {platform.name} ({ctx.env}); above training, which never preempts them.",
            opts=pulumi.ResourceOptions(provider=provider),
        )
        registry, identity = _registry(ctx), _endpoint_identity(ctx)
        redis = _redis_peers(ctx, scope)
        endpoint_opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[priority]))
    for c in served:
        model = ctx.models[c.model]
        _check_model_uri(ctx, c, model.uri, registry)
        args = ModelEndpointArgs(
            spec=c,
            model=model,
            scope=scope,
            cluster=cluster,
            registry=registry,
            identity=identity,
            priority_class=ctx.names.serving_priority_class(),
            role_name=ctx.names.model_reader_role(c.name),
            tags=ctx.tags(c.name),
            monitored=c.name in monitored,
            redis=redis,
        )
        endpoints[c.name] = built[c.name] = ModelEndpoint(c.name, args, endpoint_opts)

    for c in components:
        if not isinstance(c, MonitoringSpec):
            continue
        watched = []
        for name in c.endpoints:
            ep = endpoints.get(name)
            if ep is None:
                pulumi.log.warn(f"MonitoringStack '{c.name}': endpoint '{name}' was not built; not watched")
                continue
            watched.append(_watched(ep))
        monitoring_args = MonitoringStackArgs(
            spec=c, scope=scope, prometheus=cluster.prometheus, endpoints=watched, smtp_password=_smtp_password(ctx, c)
        )
        built[c.name] = MonitoringStack(c.name, monitoring_args, opts)
    _training_alerts(ctx, scope, [b for b in built.values() if isinstance(b, TrainingCluster)], opts)

    ctx.shared["kubernetes_components"] = built
    for b in built.values():
        if isinstance(b, FeatureStore):  # named like the AWS feature stores' export
            pulumi.export(f"{b.store_name}_feature_store_yaml", b.feature_store_yaml)
            if b.feast_policies:
                pulumi.export(f"{b.store_name}_feast_policies", {op: p.arn for op, p in b.feast_policies.items()})
    pulumi.export("kubernetes_namespace", scope.namespace)
    pulumi.export("pod_security", {"enforce": level, "warn": common.POD_SECURITY_LEVEL, "reason": why})


def _training_alerts(
    ctx: ProgramContext, scope: Scope, trainers: list[TrainingCluster], opts: pulumi.ResourceOptions
) -> None:
    """Failed jobs and long queues of the training namespaces alert the first Kubernetes
    MonitoringStack that asks for training alerts (one set of rules, not one per stack)."""
    watching = [
        m
        for m in ctx.platform.of_kind(MonitoringSpec)
        if m.target == "kubernetes" and m.training_job_alerts and m.notify
    ]
    if not trainers or not watching:
        return
    queues = [WatchedQueue(t.spec.name, t.namespace_name, t.queues.cluster_queue_name) for t in trainers]
    args = TrainingAlertsArgs(
        scope=scope, prometheus=ctx.platform.kubernetes.prometheus, queues=queues,
        equipment=ctx.platform.kubernetes.training,
    )
    TrainingAlerts(f"{watching[0].name}-training", args, opts)


def _promoted(ctx: ProgramContext, c: EndpointSpec) -> bool:
    if c.model in ctx.models:
        return True
    pulumi.log.warn(
        f"ModelEndpoint '{c.name}' skipped: model '{c.model}' has no promoted version in the stack "
        f"config (mlplatform:models); promote one with `mlplatform promote {c.model}`"
    )
    return False


def _registry(ctx: ProgramContext) -> workload_identity.Registry:
    """The environment's registry, built by the AWS side's PlatformCore."""
    account = str(ctx.shared["account_id"])
    return workload_identity.Registry(
        bucket=ctx.names.registry_bucket(account),
        key_arn=ctx.shared["kms_key"].arn,
        region=str(ctx.shared.get("region", ctx.platform.region)),
        account_id=account,
        partition=str(ctx.shared.get("partition", "aws")),
    )


def _check_model_uri(ctx: ProgramContext, c: EndpointSpec, uri: str, registry: workload_identity.Registry) -> None:
    expected = f"s3://{registry.bucket}/{registry.model_prefix(c.model)}"
    if not uri.startswith(expected):
        raise MlplatformError(
            f"{ctx.blueprint} [{ctx.env}]: stack config mlplatform:models.{c.model}.uri is '{uri}', outside "
            f"the environment's registry ({expected}...); ModelEndpoint '{c.name}' may read only its model's "
            f"prefix there. Promote the version with `mlplatform promote {c.model}`"
        )


def _endpoint_identity(ctx: ProgramContext) -> workload_identity.Identity:
    declared = ctx.platform.kubernetes.workload_identity
    partition, account = ctx.shared.get("partition", "aws"), ctx.shared["account_id"]
    if isinstance(declared, IrsaSpec):
        return workload_identity.Irsa(
            provider_arn=f"arn:{partition}:iam::{account}:oidc-provider/{declared.oidc_issuer}",
            issuer=declared.oidc_issuer,
        )
    if isinstance(declared, PodIdentitySpec):
        return workload_identity.PodIdentity(declared.cluster_name)
    cluster = ctx.platform.kubernetes.training_cluster
    trainer = (ctx.shared.get("training_clusters") or {}).get(cluster) if cluster else None
    if trainer is None:  # validation reports it first (Platform.kubernetes.workload_identity)
        raise MlplatformError(
            f"{ctx.blueprint} [{ctx.env}]: Kubernetes endpoints read the registry and need AWS credentials; "
            f"declare Platform.kubernetes.workload_identity (Irsa(oidc_issuer=...) or PodIdentity(cluster_name=...))"
        )
    return workload_identity.Irsa(
        provider_arn=trainer.oidc.arn, issuer=trainer.oidc.url.apply(lambda u: u.removeprefix("https://"))
    )


def _redis_peers(ctx: ProgramContext, scope: Scope) -> list[tuple[dict[str, str], int]]:
    """Pod selectors of the platform's Redis feature stores, which endpoints may reach."""
    stores = [c for c in kubernetes_components(ctx) if isinstance(c, FeatureStoreSpec) and c.online_store == "redis"]
    return [
        (
            common.selector(scope.labels(name=s.name, instance=ctx.names.redis(s.name), component="feature-store")),
            REDIS_PORT,
        )
        for s in stores
    ]


def _smtp_password(ctx: ProgramContext, spec: MonitoringSpec) -> pulumi.Output[str] | None:
    smtp = ctx.platform.kubernetes.prometheus.smtp
    emails = [t for t in spec.notify if not t.startswith("https://")]
    if smtp is None or smtp.username is None or not emails:
        return None
    password = ctx.config.get_secret("smtpPassword")
    if password is None:
        raise MlplatformError(
            f"{ctx.blueprint} [{ctx.env}]: Platform.kubernetes.prometheus.smtp logs in as '{smtp.username}', "
            f"and stack config mlplatform:smtpPassword is not set; set it with "
            f"`pulumi config set --secret mlplatform:smtpPassword <password> -s <stack>`"
        )
    return password


def _mlflow_args(ctx: ProgramContext, spec: TrackerSpec, scope: Scope) -> MlflowServerArgs:
    """A self-hosted MLflow stands on the AWS side: core (key, access logs), network, identity."""
    shared, platform = ctx.shared, ctx.platform
    network = shared.get("network")
    placement = AwsPlacement(
        names=ctx.names,
        tags=ctx.tags(spec.name),
        account_id=shared["account_id"],
        region=shared["region"],
        partition=shared.get("partition", "aws"),
        kms_key_arn=shared["kms_key"].arn,
        access_logs_bucket=shared["access_logs_bucket"],
        vpc_id=network.vpc_id if network is not None else None,
        vpc_cidr=network.vpc_cidr if network is not None else None,
        private_subnet_ids=list(network.private_subnet_ids) if network is not None else [],
        protect=is_production(ctx.env),
    )
    prometheus = platform.kubernetes.prometheus
    return MlflowServerArgs(
        spec=spec,
        scope=scope,
        aws=placement,
        identity=_tracker_identity(ctx, spec),
        storage_class=platform.kubernetes.storage_class,
        prometheus_namespace=prometheus.namespace,
        prometheus_labels=dict(prometheus.selector_labels),
    )


def _tracker_identity(ctx: ProgramContext, spec: TrackerSpec) -> Identity:
    declared = ctx.platform.kubernetes.workload_identity
    if isinstance(declared, IrsaSpec):
        arn = f"arn:{ctx.shared.get('partition', 'aws')}:iam::{ctx.shared['account_id']}:oidc-provider/"
        return Identity(oidc_provider_arn=arn + declared.oidc_issuer, oidc_issuer=declared.oidc_issuer)
    if isinstance(declared, PodIdentitySpec):
        return Identity(pod_identity_cluster=declared.cluster_name)
    eks = ctx.shared.get("training_clusters", {}).get(ctx.platform.kubernetes.training_cluster or "")
    if eks is None:
        raise MlplatformError(
            f"{ctx.blueprint}: ExperimentTracker '{spec.name}' reaches S3 through workload identity: declare "
            "Platform.kubernetes.workload_identity (Irsa(oidc_issuer=...) or PodIdentity(cluster_name=...)) or "
            "set Platform.kubernetes.training_cluster"
        )
    issuer = eks.oidc.url.apply(lambda u: u.removeprefix("https://"))
    return Identity(oidc_provider_arn=eks.oidc.arn, oidc_issuer=issuer)


def _offline_store_args(ctx: ProgramContext, spec: FeatureStoreSpec) -> OfflineStoreArgs | None:
    """The S3 offline store "as on AWS" when the platform has AWS (the AWS side built the core:
    key, access-logs bucket, account); the secure defaults are the AWS FeatureStore's."""
    if "core" not in ctx.shared:
        return None
    return OfflineStoreArgs(
        store=spec.name,
        names=ctx.names,
        tags=ctx.tags(spec.name),
        account_id=ctx.shared["account_id"],
        retention_days=spec.offline_retention_days,
        kms_key_arn=None if "kms_encryption" in spec.opt_out else ctx.shared["kms_key"].arn,
        access_logs_bucket=None if "access_logging" in spec.opt_out else ctx.shared["access_logs_bucket"],
        versioning="versioning" not in spec.opt_out,
        partition=ctx.shared.get("partition", "aws"),
    )


def _watched(ep: ModelEndpoint) -> WatchedEndpoint:
    spec = ep.spec
    return WatchedEndpoint(
        name=spec.name,
        physical=ep.physical,
        namespace=ep.namespace,
        mode=ep.kserve.mode if ep.kserve is not None else None,
        port=spec.port,
        metrics=spec.metrics,
        max_replicas=spec.max_instances,
        autoscaled=spec.max_instances > spec.min_instances,
    )
