"""Wiring of the TrainingPipelines of one environment on AWS (target="sagemaker").

Each pipeline registers into the first environment of the promotion order (the registration
environment), whose promoter role trusts the pipelines' registration roles (`registrars`).
Pipelines in every environment of the platform are trusted there, since each environment's
stack is deployed on its own; all of them in the account of the registration environment.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pulumi

from mlplatform import access, naming
from mlplatform.components.aws.model_endpoint import NetworkPlacement
from mlplatform.components.aws.training_pipeline import TrainingPipeline, TrainingPipelineArgs
from mlplatform.spec.model_endpoint import ModelEndpoint as ModelEndpointSpec
from mlplatform.spec.monitoring import MonitoringStack as MonitoringSpec
from mlplatform.spec.platform import Platform
from mlplatform.spec.training_pipeline import TrainingPipeline as PipelineSpec

if TYPE_CHECKING:
    from mlplatform.components.aws.network import Network
    from mlplatform.components.aws.platform_core import PlatformCore
    from mlplatform.context import ProgramContext


def registrars(scope: access.Scope, platform: Platform, partition: str) -> access.Scope:
    """In the registration environment, the Scope whose promoter role trusts every environment's
    pipeline registration roles; elsewhere the Scope unchanged."""
    specs = [p for p in platform.of_kind(PipelineSpec) if p.target == "sagemaker"]
    if not specs or scope.names.env != platform.environments[0]:
        return scope
    roles = tuple(
        f"arn:{partition}:iam::{scope.account}:role/{naming.Names(platform.name, env).role(p.name, 'register')}"
        for env in platform.environments
        for p in specs
    )
    return replace(scope, registrars=roles)


def build_pipelines(
    ctx: ProgramContext, core: PlatformCore, network: Network | None, monitors: list[MonitoringSpec]
) -> None:
    platform, n, shared = ctx.platform, ctx.names, ctx.shared
    account, region, partition = shared["account_id"], shared["region"], shared["partition"]
    # The training nodes' group: node-to-node traffic (distributed training) and HTTPS out to AWS APIs.
    placement = NetworkPlacement(network.private_subnet_ids, [network.nodes_sg.id]) if network else None
    registration = naming.Names(platform.name, platform.environments[0])
    for spec in platform.of_kind(PipelineSpec):
        if spec.target != "sagemaker":
            continue
        endpoints = [
            e for e in platform.of_kind(ModelEndpointSpec) if e.model == spec.model and e.target == "sagemaker"
        ]
        watching = [m for m in monitors if {e.name for e in endpoints} & set(m.endpoints)]
        drift = sorted(
            n.data_quality_job(e.name) for m in watching if m.model_monitor for e in endpoints if e.name in m.endpoints
        )
        # Failed runs alert where the model's endpoints alert; else the platform's first topic.
        owners = watching or monitors
        topic = shared["monitoring"][owners[0].name].topic.arn if owners else None
        if topic is None:
            pulumi.log.warn(
                f"TrainingPipeline '{spec.name}': no MonitoringStack with target='aws', so failed runs alert nobody"
            )
        pipeline = TrainingPipeline(
            spec.name,
            TrainingPipelineArgs(
                spec=spec,
                names=n,
                registration=registration,
                tags=ctx.tags(spec.name),
                account_id=account,
                region=region,
                partition=partition,
                kms_key_arn=core.key.arn,
                registry_bucket=core.registry.name,
                registry_bucket_arn=core.registry.arn,
                training_data=training_data(spec, n, account),
                network=placement,
                alert_topic_arn=topic,
                drift_schedules=drift,
            ),
        )
        shared["pipelines"][spec.name] = pipeline


def training_data(spec: PipelineSpec, n: naming.Names, account: str) -> str:
    if spec.train.data is not None:
        return spec.train.data if spec.train.data.endswith("/") else f"{spec.train.data}/"
    assert spec.train.feature_store is not None
    return f"s3://{n.offline_store_bucket(spec.train.feature_store, account)}/{spec.train.data_prefix}"
