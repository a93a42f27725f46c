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

from mlplatform.components.aws.feature_store import OfflineStoreArgs
from mlplatform.components.k8s import training_charts
from mlplatform.components.k8s.common import Scope
from mlplatform.components.k8s.experiment_tracker import MlflowServer, MlflowServerArgs
from mlplatform.components.k8s.feature_store import FeatureStore, FeatureStoreArgs
from mlplatform.components.k8s.mlflow_backing import AwsPlacement, Identity
from mlplatform.components.k8s.model_endpoint import ModelEndpoint, ModelEndpointArgs
from mlplatform.components.k8s.monitoring_stack import MonitoringStack, MonitoringStackArgs, WatchedEndpoint
from mlplatform.components.k8s.training_cluster import TrainingCluster, TrainingClusterArgs
from mlplatform.components.tracking_wiring import JobTarget
from mlplatform.errors import MlplatformError
from mlplatform.spec.cluster import Irsa, PodIdentity
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
    """The one provider every Kubernetes resource of this program uses."""
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
    kubeconfig = ctx.config.get_secret("kubeconfig")  # a file path or the contents (credentials)
    context = ctx.config.get("kubeContext")
    if kubeconfig is None and context is None:
        names = ", ".join(f"{type(c).__name__} '{c.name}'" for c in kubernetes_components(ctx))
        raise MlplatformError(
            f"{ctx.blueprint} [{ctx.env}]: {names} target kubernetes, and no cluster is configured: set "
            f"stack config mlplatform:kubeContext (a context of your kubeconfig) and/or mlplatform:kubeconfig "
            f"(a kubeconfig file or its contents), or Platform.kubernetes.training_cluster to an eks "
            f"TrainingCluster of the blueprint"
        )
    return k8s.Provider(
        f"{ctx.names.prefix}-kubernetes",
        kubeconfig=kubeconfig,
        context=context,
        enable_server_side_apply=True,
    )


def build(ctx: ProgramContext) -> None:
    """The components whose target is kubernetes, in dependency order: namespace, training,
    features, endpoints, then monitoring of the endpoints that were built."""
    components = kubernetes_components(ctx)
    if not components:
        return
    platform = ctx.platform
    provider = cluster_provider(ctx)
    scope = Scope(
        platform=platform.name,
        team=platform.team,
        env=ctx.env,
        namespace=platform.kubernetes.namespace or ctx.names.serving_namespace(),
    )
    namespace = k8s.core.v1.Namespace(
        f"{ctx.names.prefix}-namespace",
        metadata=scope.namespace_metadata(scope.namespace, "platform"),
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
            cluster_args = TrainingClusterArgs(
                spec=c, scope=scope, controllers=controllers, karpenter=platform.kubernetes.training.karpenter
            )
            cluster = built[c.name] = TrainingCluster(c.name, cluster_args, opts)
            ctx.shared.setdefault("job_targets", {})[c.name] = JobTarget(
                c.name, cluster.namespace_name, f"{cluster.namespace_name}-jobs", provider, [cluster.namespace]
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
                storage_class=platform.kubernetes.storage_class,
                production=is_production(ctx.env),
            )
            built[c.name] = FeatureStore(c.name, store_args, opts)

    monitored = {e for m in platform.of_kind(MonitoringSpec) if m.target == "kubernetes" for e in m.endpoints}
    endpoints: dict[str, ModelEndpoint] = {}
    for c in components:
        if not isinstance(c, EndpointSpec):
            continue
        model = ctx.models.get(c.model)
        if model is None:
            pulumi.log.warn(
                f"ModelEndpoint '{c.name}' skipped: model '{c.model}' has no promoted version in the stack "
                f"config (mlplatform:models); promote one with `mlplatform promote {c.model}`"
            )
            continue
        args = ModelEndpointArgs(
            spec=c, model=model, scope=scope, region=platform.region, monitored=c.name in monitored
        )
        endpoints[c.name] = built[c.name] = ModelEndpoint(c.name, args, opts)

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
        built[c.name] = MonitoringStack(c.name, MonitoringStackArgs(spec=c, scope=scope, endpoints=watched), opts)

    ctx.shared["kubernetes_components"] = built
    for b in built.values():
        if isinstance(b, FeatureStore):  # named like the AWS feature stores' export
            pulumi.export(f"{b.store_name}_feature_store_yaml", b.feature_store_yaml)
            if b.feast_policies:
                pulumi.export(f"{b.store_name}_feast_policies", {op: p.arn for op, p in b.feast_policies.items()})
    pulumi.export("kubernetes_namespace", scope.namespace)


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
        identity=_identity(ctx, spec),
        storage_class=platform.kubernetes.storage_class,
        prometheus_namespace=prometheus.namespace,
        prometheus_labels=dict(prometheus.selector_labels),
    )


def _identity(ctx: ProgramContext, spec: TrackerSpec) -> Identity:
    declared = ctx.platform.kubernetes.workload_identity
    if isinstance(declared, Irsa):
        arn = f"arn:{ctx.shared.get('partition', 'aws')}:iam::{ctx.shared['account_id']}:oidc-provider/"
        return Identity(oidc_provider_arn=arn + declared.oidc_issuer, oidc_issuer=declared.oidc_issuer)
    if isinstance(declared, PodIdentity):
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
        kserve=spec.kserve,
        port=spec.port,
        max_replicas=spec.max_instances,
        autoscaled=spec.max_instances > spec.min_instances,
    )
