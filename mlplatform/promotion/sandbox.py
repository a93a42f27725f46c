"""A local AWS emulator (moto's server on 127.0.0.1) seeded with what `pulumi up` of each
environment creates for promotion: registry bucket, ledger table and its write-once copy
(Object Lock), KMS key, SSM discovery parameters, model package groups, the endpoint alarms (in
OK state), the duty roles with their policies, and two people: `bob`, a promoter, and `alice`,
an approver, each an IAM user who may assume the roles.

Every name comes from mlplatform.naming and every policy from mlplatform.access, the modules
the Pulumi components use, so the CLI finds in the sandbox what it would find in a deployed
account. The emulator stores the policies but does not evaluate them (moto checks no IAM by
default): the sandbox shows the CLI's own checks, not AWS's. The integration tests seed their
emulator with `seed` too.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlplatform import access, naming

if TYPE_CHECKING:
    from mlplatform.spec.platform import Platform

HOST = "127.0.0.1"


# The people the sandbox creates, and the duty each may take on (any environment).
PEOPLE = {"bob": "promoter", "alice": "approver"}


@dataclass
class Seeded:
    platform: str
    env: str
    region: str
    registry_bucket: str
    ledger_table: str
    kms_key_arn: str
    archive_bucket: str = ""
    model_package_groups: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # duty -> role ARN


@dataclass
class Person:
    name: str
    duty: str
    access_key_id: str
    secret_access_key: str


def start(port: int = 0) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1; returns (server, endpoint URL). A port that is
    taken raises OSError here, at once (moto's own start() would wait forever for a server its
    thread failed to create)."""
    import logging
    import socket
    from threading import Thread

    from moto.moto_server import threaded_moto_server as moto

    class Server(moto.ThreadedMotoServer):
        def start(self) -> None:
            # Bind here, in the caller's thread, so a taken port is an OSError to report
            # (werkzeug's own bind prints and exits; moto's thread would leave start() waiting).
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((self._ip_address, self._port))
                listener.listen(128)
                app = moto.DomainDispatcherApplication(moto.create_backend_app)
                self._server = moto.make_server(
                    self._ip_address,
                    self._port,
                    app,
                    True,
                    request_handler=moto.MotoRequestHandler,
                    fd=listener.fileno(),
                )
            finally:
                listener.close()  # the server holds its own duplicate of the socket
            self._server_ready_event.set()
            self._thread = Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = Server(ip_address=HOST, port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def seed(environments: list[tuple[str, Platform]], endpoint_url: str) -> list[Seeded]:
    """Create, for each (environment, platform resolved for it), what promotion relies on."""
    clients = _CLIENTS.setdefault(endpoint_url, {})  # clients are reused across seeds of one emulator
    return [_seed_env(env, platform, endpoint_url, clients) for env, platform in environments]


_CLIENTS: dict[str, dict[tuple[str, str], Any]] = {}


def people(endpoint_url: str, region: str = "us-east-1") -> list[Person]:
    """IAM users who may assume the platform's roles (their duty's, in every environment)."""
    from mlplatform.promotion.aws import new_session

    iam = new_session(region=region).client("iam", endpoint_url=endpoint_url)
    found = []
    for name, duty in PEOPLE.items():
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=name)
        iam.put_user_policy(
            UserName=name,
            PolicyName="assume-platform-roles",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                            "Resource": f"arn:aws:iam::*:role/*-{duty}",
                        }
                    ],
                }
            ),
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        found.append(Person(name, duty, key["AccessKeyId"], key["SecretAccessKey"]))
    return found


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

    scope = access.Scope(names, account, platform.region)
    s3.put_bucket_policy(Bucket=bucket, Policy=_evaluable(access.registry_statements(scope)))
    archive = names.ledger_archive_bucket(account)
    create = {"Bucket": archive, "ObjectLockEnabledForBucket": True}
    if platform.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": platform.region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(**create)
    s3.put_object_lock_configuration(
        Bucket=archive,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    s3.put_bucket_policy(Bucket=archive, Policy=_evaluable(access.archive_statements(scope)))
    table_arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.put_resource_policy(ResourceArn=table_arn, Policy=json.dumps(access.ledger_table_policy(scope)))
    roles = _seed_roles(client("iam"), scope)

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
        naming.SSM_LEDGER_ARCHIVE_BUCKET: archive,
        **{naming.ssm_access_role_key(duty): arn for duty, arn in roles.items()},
    }
    seeded = Seeded(platform.name, env, platform.region, bucket, table, key_arn, archive, roles=roles)
    sm, cw = client("sagemaker"), client("cloudwatch")
    watched = {e for m in platform.of_kind(MonitoringStack) if m.target == "aws" for e in m.endpoints}
    for endpoint in platform.of_kind(ModelEndpoint):
        group = names.model_package_group(endpoint.model)
        # The alarms the promotion gate reads, as the platform core publishes them (naming).
        alarms = [names.alarm(endpoint.name, metric) for metric in naming.PROMOTION_GATE_ALARM_METRICS]
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


def _evaluable(statements: list[dict[str, Any]]) -> str:
    """The statements of a bucket policy the emulator evaluates as AWS does: moto applies a
    bucket policy's Deny to object requests but ignores conditions, so a conditional Deny would
    deny everything. The unconditional ones (no deletes under models/, no deletes of ledger
    copies) are enforced by the emulator; the conditional ones only by AWS."""
    return json.dumps(access.document(*[s for s in statements if "Condition" not in s]))


def _seed_roles(iam: Any, scope: access.Scope) -> dict[str, str]:
    """The duty roles of one environment, with the trust and permission policies `pulumi up` gives them."""
    roles: dict[str, str] = {}
    for duty, policy in access.POLICIES.items():
        name = scope.names.access_role(duty)
        trust = json.dumps(access.trust_policy(scope, duty))
        try:
            roles[duty] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            roles[duty] = iam.get_role(RoleName=name)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName=duty, PolicyDocument=json.dumps(policy(scope)))
    return roles


def resolved_environments(blueprint_path: str) -> list[tuple[str, Platform]]:
    """The blueprint resolved for each of its environments."""
    from mlplatform.blueprint import load

    blueprint = load(blueprint_path)
    return [(env, blueprint.resolve(env)) for env in blueprint.environments]
