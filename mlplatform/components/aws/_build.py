"""Wiring of the AWS components for one environment (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from mlplatform import access, admission, naming
from mlplatform.components import tracking_wiring
from mlplatform.components.aws.access_roles import AccessArgs, PromotionAccess, scope_from_config
from mlplatform.components.aws.experiment_tracker import ManagedMlflow, ManagedMlflowArgs
from mlplatform.components.aws.feature_store import FeatureStore, FeatureStoreArgs
from mlplatform.components.aws.model_endpoint import ModelEndpoint, ModelEndpointArgs, NetworkPlacement
from mlplatform.components.aws.monitoring import MonitoringArgs, MonitoringStack, WatchedEndpoint, WatchedTraining
from mlplatform.components.aws.network import Network, NetworkArgs
from mlplatform.components.aws.platform_core import EndpointRecord, PlatformCore, PlatformCoreArgs
from mlplatform.components.aws.training_cluster import DeployIdentity, TrainingCluster, TrainingClusterArgs
from mlplatform.components.aws.training_pipelines import build_pipelines, registrars
from mlplatform.components.k8s.pod_security import pod_security_level
from mlplatform.components.tracking_wiring import JobTarget
from mlplatform.errors import MlplatformError
from mlplatform.spec.environments import is_production
from mlplatform.spec.experiment_tracker import ExperimentTracker as TrackerSpec
from mlplatform.spec.feature_store import FeatureStore as FeatureStoreSpec
from mlplatform.spec.model_endpoint import ModelEndpoint as ModelEndpointSpec
from mlplatform.spec.monitoring import MonitoringStack as MonitoringSpec
from mlplatform.spec.network import Network as NetworkSpec
from mlplatform.spec.training_cluster import TrainingCluster as TrainingClusterSpec
from mlplatform.spec.training_pipeline import TrainingPipeline as PipelineSpec

if TYPE_CHECKING:
    from mlplatform.context import ProgramContext


def build(ctx: ProgramContext) -> None:
    platform, n = ctx.platform, ctx.names
    caller = aws.get_caller_identity()
    account_id = caller.account_id
    region = aws.get_region().region
    partition = aws.get_partition().partition
    refused = admission.problems(ctx.models, n, account_id)
    if refused:
        raise MlplatformError(
            f"stack '{pulumi.get_stack()}' deploys model versions that were not promoted to {ctx.env}:\n"
            + "\n".join(f"  - {p}" for p in refused)
        )
    config = {key: ctx.config.get(key) for key in ("access", "accounts")}
    scope = scope_from_config(config, n, list(platform.environments), account_id, region, partition)
    scope = registrars(scope, platform, partition)
    if region != platform.region:
        pulumi.log.warn(
            f"blueprint region is {platform.region} but the stack deploys to {region} (aws:region): "
            "resources are created in the stack's region"
        )
    protect = is_production(ctx.env)  # the one definition: spec/environments.py
    shared: dict[str, Any] = ctx.shared
    shared.update(account_id=account_id, region=region, partition=partition, opt_outs=[])
    for key in (
        "feature_stores",
        "training_clusters",
        "endpoints",
        "monitoring",
        "kubernetes_providers",
        "trackers",
        "job_targets",
        "pipelines",
    ):
        shared.setdefault(key, {})

    endpoints = platform.of_kind(ModelEndpointSpec)
    # Served = has a promoted version here. Kubernetes endpoints without one are reported by the
    # Kubernetes side, which skips them; only SageMaker ones are reported here.
    served = [e for e in endpoints if _promoted(ctx, e)]
    for e in endpoints:
        if e not in served and e.target == "sagemaker":
            pulumi.log.warn(
                f"ModelEndpoint '{e.name}': model '{e.model}' has no promoted version in {ctx.env} "
                f"(stack config mlplatform:models); the endpoint is left out until one is promoted"
            )
    monitors = [m for m in platform.of_kind(MonitoringSpec) if m.target == "aws"]
    watched = {e for m in monitors for e in m.endpoints}
    sagemaker = [e for e in served if e.target == "sagemaker"]
    clusters = [c for c in platform.of_kind(TrainingClusterSpec) if c.target == "eks"]

    def alarms(endpoint: str) -> list[str]:
        """The alarms the promotion gate reads for `endpoint` (naming.PROMOTION_GATE_ALARM_METRICS)."""
        return [n.alarm(endpoint, m) for m in naming.PROMOTION_GATE_ALARM_METRICS] if endpoint in watched else []

    core = PlatformCore(
        "core",
        PlatformCoreArgs(
            names=n,
            tags=ctx.tags("core"),
            account_id=account_id,
            region=region,
            partition=partition,
            models=sorted({e.model for e in endpoints}),
            endpoints=[
                EndpointRecord(
                    e.name, e.model, e.target, n.endpoint(e.name), alarms(e.name) if e.target == "sagemaker" else []
                )
                for e in served
            ],
            protect=protect,
            workload_roles=_workload_roles(ctx, clusters, sagemaker, watched),
            registry_statements=access.registry_statements(scope),
            key_administrators=access.key_administrators(scope, caller.arn),
            key_users=access.key_users(scope, caller.arn),
            key_cross_account=access.key_cross_account(scope),
        ),
    )
    PromotionAccess(
        "access",
        AccessArgs(
            scope=scope,
            tags=ctx.tags("access"),
            ledger_table_arn=core.ledger.arn,
            kms_key_arn=core.key.arn,
            access_logs_bucket=core.access_logs.log_target,
            production=protect,
        ),
    )
    # The access-logs bucket by a name that carries its policy: logging configurations wait for it.
    shared.update(
        core=core,
        kms_key=core.key,
        registry_bucket=core.registry.bucket,
        access_logs_bucket=core.access_logs.log_target,
    )

    needs_network = platform.network is not None or sagemaker or any(not c.existing_cluster for c in clusters)
    network: Network | None = None
    if needs_network:
        zones = aws.get_availability_zones(state="available").names
        network = Network(
            "network",
            NetworkArgs(
                spec=platform.network or NetworkSpec(),
                names=n,
                tags=ctx.tags("network"),
                region=region,
                account_id=account_id,
                kms_key_arn=core.key.arn,
                availability_zones=list(zones),
                partition=partition,
            ),
        )
    shared["network"] = network

    # What every component that owns buckets gets: the platform key, the access-logs target, and
    # prod's protection.
    storage: dict[str, Any] = dict(
        names=n,
        account_id=account_id,
        region=region,
        kms_key_arn=core.key.arn,
        access_logs_bucket=core.access_logs.log_target,
        partition=partition,
        protect=protect,
    )
    stores: dict[str, FeatureStore] = {}
    for fs in platform.of_kind(FeatureStoreSpec):
        if fs.target != "aws":
            continue
        stores[fs.name] = FeatureStore(
            fs.name,
            FeatureStoreArgs(spec=fs, tags=ctx.tags(fs.name), **storage),
        )
        _record(shared, fs.name, stores[fs.name].opt_outs)
        pulumi.export(f"{fs.name}_feature_store_yaml", stores[fs.name].feast_yaml)
        pulumi.export(f"{fs.name}_feast_policies", {op: p.arn for op, p in stores[fs.name].feast_policies.items()})
    shared["feature_stores"].update(stores)

    # Managed MLflow before the clusters: their training runtimes carry its tracking URI.
    for t in platform.of_kind(TrackerSpec):
        if t.backend == "mlflow" and t.target == "aws":
            shared["trackers"][t.name] = ManagedMlflow(
                t.name,
                ManagedMlflowArgs(spec=t, tags=ctx.tags(t.name), **storage),
            )

    for tc in clusters:
        cluster = TrainingCluster(
            tc.name,
            TrainingClusterArgs(
                spec=tc,
                names=n,
                tags=ctx.tags(tc.name),
                account_id=account_id,
                region=region,
                kms_key_arn=core.key.arn,
                subnet_ids=network.private_subnet_ids if network else [],
                node_security_group_id=network.nodes_sg.id if network else None,
                protect=protect,
                partition=partition,
                pod_security_level=pod_security_level(ctx)[0],
                tracking_env=tracking_wiring.runtime_env(platform, n, tc.name, tracking_wiring.built_uris(shared)),
                identity=DeployIdentity.from_config(),
            ),
        )
        # Training jobs read features and write their output to the registry's staging prefix,
        # nothing else: promoted versions under models/ are written by promotion only.
        for store in stores.values():
            store.grant_read(cluster.job_role, tc.name)
        core.grant_training_output(cluster.job_role, tc.name)
        shared["training_clusters"][tc.name] = cluster
        shared["kubernetes_providers"][tc.name] = cluster.provider
        shared["job_targets"][tc.name] = JobTarget(
            tc.name,
            n.namespace(tc.name),
            n.service_account(tc.name),
            cluster.provider,
            [cluster.namespace],
            cluster.job_role,
        )
        _record(shared, tc.name, cluster.opt_outs)

    placement = NetworkPlacement(network.private_subnet_ids, [network.serving_sg.id]) if network is not None else None
    # Monitoring first: endpoints name its alarms in their auto-rollback configuration.
    for i, m in enumerate(monitors):
        monitor = MonitoringStack(
            m.name,
            MonitoringArgs(
                spec=m,
                names=n,
                tags=ctx.tags(m.name),
                account_id=account_id,
                region=region,
                kms_key_arn=core.key.arn,
                registry_bucket=core.registry.name,
                registry_bucket_arn=core.registry.arn,
                endpoints=[
                    WatchedEndpoint(e.name, None if e.serverless else e.instance_type, e.data_capture_percent > 0)
                    for e in sagemaker
                    if e.name in m.endpoints
                ],
                # Clusters the platform creates run Container Insights (cluster_observability.py).
                training=[
                    WatchedTraining(c.spec.name, c.cluster.name, c.namespace_name, c.queues.cluster_queue_name)
                    for c in shared["training_clusters"].values()
                    if c.cluster is not None
                ]
                if i == 0
                else [],
                network=placement,
                dashboard=i == 0,
                partition=partition,
            ),
        )
        shared["monitoring"][m.name] = monitor
        _record(shared, m.name, monitor.opt_outs)

    for e in sagemaker:
        watcher = next((m for m in monitors if e.name in m.endpoints), None)
        watching = shared["monitoring"][watcher.name] if watcher else None
        endpoint = ModelEndpoint(
            e.name,
            ModelEndpointArgs(
                spec=e,
                model=ctx.models[e.model],
                names=n,
                tags=ctx.tags(e.name),
                account_id=account_id,
                region=region,
                kms_key_arn=core.key.arn,
                registry_bucket=core.registry.name,
                registry_bucket_arn=core.registry.arn,
                network=placement,
                rollback_alarms=watching.rollback_alarms(e.name) if watching else [],
                log_retention_days=watcher.log_retention_days if watcher else 365,
                partition=partition,
            ),
        )
        shared["endpoints"][e.name] = endpoint
        _record(shared, e.name, endpoint.opt_outs)
        if watcher is not None and watching is not None and watcher.model_monitor and e.data_capture_percent > 0:
            baseline = ctx.models[e.model].baseline
            if baseline is None:
                pulumi.log.warn(
                    f"MonitoringStack '{watcher.name}': {e.model} {ctx.models[e.model].version} in {ctx.env} has no "
                    f"data-quality baseline (mlplatform:models.{e.model}.baseline); no Model Monitor schedule "
                    f"for '{e.name}' until a version with one is promoted"
                )
            else:
                watching.watch_data_quality(e.name, endpoint.endpoint.name, baseline)

    build_pipelines(ctx, core, network, monitors)

    pulumi.export("registry_bucket", core.registry.name)
    pulumi.export("ledger_table", core.ledger.name)
    pulumi.export("kms_key_arn", core.key.arn)


def _workload_roles(
    ctx: ProgramContext,
    clusters: Sequence[TrainingClusterSpec],
    sagemaker: Sequence[ModelEndpointSpec],
    watched: set[str],
) -> list[str]:
    """Roles the platform creates for code it runs (training jobs, serving, Model Monitor)."""
    n = ctx.names
    roles = [n.role(c.name, "jobs") for c in clusters]
    # A pipeline's jobs and steps never write models/ themselves: registration does, as the promoter.
    roles += [n.role(p.name, purpose) for p in ctx.platform.of_kind(PipelineSpec) for purpose in ("train", "register")]
    for e in sagemaker:
        roles.append(n.role(e.name, "execution"))
        if e.name in watched and e.data_capture_percent > 0:
            roles.append(n.role(e.name, "monitor"))  # Model Monitor, where the blueprint asks for it
    return roles


def _promoted(ctx: ProgramContext, endpoint: ModelEndpointSpec) -> bool:
    return endpoint.model in ctx.models


def _record(shared: dict[str, Any], component: str, opt_outs: Sequence[str]) -> None:
    shared["opt_outs"].extend((component, o) for o in opt_outs)
