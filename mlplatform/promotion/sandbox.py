"""A local AWS emulator (moto's server on 127.0.0.1) seeded with what `pulumi up` of each
environment creates for promotion: registry bucket, ledger table, KMS key, SSM discovery
parameters, model package groups, and the endpoint alarms (in OK state).

Every name comes from mlplatform.naming, the module the Pulumi components use, so the CLI
finds in the sandbox exactly what it would find in a deployed account. The integration tests
seed their emulator with `seed` too.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlplatform import naming

if TYPE_CHECKING:
    from mlplatform.spec.platform import Platform

HOST = "127.0.0.1"


@dataclass
class Seeded:
    platform: str
    env: str
    region: str
    registry_bucket: str
    ledger_table: str
    kms_key_arn: str
    model_package_groups: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)


def start(port: int = 0) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1; returns (server, endpoint URL)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def seed(environments: list[tuple[str, Platform]], endpoint_url: str) -> list[Seeded]:
    """Create, for each (environment, platform resolved for it), what promotion relies on."""
    clients: dict[tuple[str, str], Any] = {}
    return [_seed_env(env, platform, endpoint_url, clients) for env, platform in environments]


def _seed_env(env: str, platform: Platform, endpoint_url: str, clients: dict[tuple[str, str], Any]) -> Seeded:
    from mlplatform.promotion.aws import new_session
    from mlplatform.spec.model_endpoint import ModelEndpoint
    from mlplatform.spec.monitoring import MonitoringStack

    names = naming.Names(platform.name, env)

    def client(service: str) -> Any:
        if (service, platform.region) not in clients:
            session = new_session(region=platform.region)
            clients[service, platform.region] = session.client(service, endpoint_url=endpoint_url)
        return clients[service, platform.region]

    account = str(client("sts").get_caller_identity()["Account"])
    s3, ssm = client("s3"), client("ssm")
    bucket = names.registry_bucket(account)
    create: dict[str, Any] = {"Bucket": bucket}
    if platform.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": platform.region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(**create)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    ddb = client("dynamodb")
    table = names.ledger_table()
    with contextlib.suppress(ddb.exceptions.ResourceInUseException):
        ddb.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": naming.LEDGER_PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": naming.LEDGER_SORT_KEY, "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": naming.LEDGER_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": naming.LEDGER_SORT_KEY, "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )

    kms = client("kms")
    alias = names.kms_alias()
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    if alias in aliases:
        key_arn = kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    else:
        key_arn = kms.create_key(Description=f"mlplatform {platform.name} {env}")["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_arn)

    params = {
        naming.SSM_REGISTRY_BUCKET: bucket,
        naming.SSM_LEDGER_TABLE: table,
        naming.SSM_KMS_KEY_ARN: key_arn,
        naming.SSM_ACCOUNT_ID: account,
        naming.SSM_REGION: platform.region,
    }
    seeded = Seeded(platform.name, env, platform.region, bucket, table, key_arn)
    sm, cw = client("sagemaker"), client("cloudwatch")
    watched = {e for m in platform.of_kind(MonitoringStack) if m.target == "aws" for e in m.endpoints}
    for endpoint in platform.of_kind(ModelEndpoint):
        group = names.model_package_group(endpoint.model)
        alarms = [names.alarm(endpoint.name, metric) for metric in naming.ENDPOINT_ALARM_METRICS]
        alarms = alarms if endpoint.name in watched else []
        params[naming.ssm_model_package_group_key(endpoint.model)] = group
        params[naming.ssm_endpoint_key(endpoint.name)] = json.dumps(
            {
                "name": names.endpoint(endpoint.name),
                "model": endpoint.model,
                "target": endpoint.target,
                "alarms": alarms,
            }
        )
        try:
            sm.create_model_package_group(ModelPackageGroupName=group)
        except sm.exceptions.ClientError as exc:
            if "already exists" not in str(exc).lower():
                raise
        if group not in seeded.model_package_groups:
            seeded.model_package_groups.append(group)
        for name in alarms:
            cw.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/SageMaker",
                MetricName="ModelLatency",
                Dimensions=[{"Name": "EndpointName", "Value": names.endpoint(endpoint.name)}],
                Statistic="Average",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1.0,
                ComparisonOperator="GreaterThanThreshold",
            )
            seeded.alarms.append(name)
        if alarms:  # deployed alarms start INSUFFICIENT_DATA on AWS; the sandbox shows them healthy
            for alarm in cw.describe_alarms(AlarmNames=alarms)["MetricAlarms"]:
                if alarm["StateValue"] != "OK":
                    cw.set_alarm_state(
                        AlarmName=alarm["AlarmName"], StateValue="OK", StateReason="seeded by mlplatform sandbox"
                    )
    for key, value in params.items():
        ssm.put_parameter(Name=names.ssm_parameter(key), Value=value, Type="String", Overwrite=True)
    return seeded


def resolved_environments(blueprint_path: str) -> list[tuple[str, Platform]]:
    """The blueprint resolved for each of its environments."""
    from mlplatform.blueprint import load

    blueprint = load(blueprint_path)
    return [(env, blueprint.resolve(env)) for env in blueprint.environments]
