"""What a self-hosted MLflow stands on: artifact bucket, workload identity, backend database.

- The artifact bucket has the platform's secure defaults (`secure_bucket`).
- The server's AWS identity is a role for its service account, by IRSA (web identity from the
  cluster's OIDC issuer, for that one service account) or EKS Pod Identity (an association on the
  cluster); it may use the bucket's `mlflow/` prefix, the platform key and, with RDS, read the
  database's managed master secret. No access keys anywhere.
- RDS PostgreSQL: encrypted with the platform key, private subnets, not public, TLS required by
  the engine (`rds.force_ssl`, on by default from PostgreSQL 15), the master password generated and
  rotated by RDS in Secrets Manager (`manage_master_user_password`), synced into the namespace by
  the External Secrets Operator. Reachable on 5432 from the VPC only.
- In-cluster PostgreSQL (database="in_cluster", reported): one pod on a retained volume, with a
  generated password in a Secret and a NetworkPolicy admitting the MLflow pods only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.components.aws.buckets import BucketSettings, SecureBucket, secure_bucket
from mlplatform.components.k8s import common
from mlplatform.components.k8s.synced_secret import SyncedSecretArgs, synced_secret

POSTGRES_ENGINE_VERSION = "17.6"
POSTGRES_IMAGE = "docker.io/library/postgres:17.6-alpine"
POSTGRES_UID = 70  # the `postgres` user of the alpine image
DATABASE = "mlflow"
MASTER_USER = "mlflow"
# ESO template (engine v2, Go text/template): the password as a URL component, for the auth database URI.
PASSWORD_URL_TEMPLATE = "{{ .password | urlquery }}"


@dataclass
class AwsPlacement:
    """The AWS side a Kubernetes MLflow uses (from the platform core and network)."""

    names: naming.Names
    tags: dict[str, str]
    account_id: str
    region: str
    partition: str
    kms_key_arn: pulumi.Input[str]
    access_logs_bucket: pulumi.Input[str]
    vpc_id: pulumi.Input[str] | None = None
    vpc_cidr: pulumi.Input[str] | None = None
    private_subnet_ids: list[pulumi.Input[str]] = field(default_factory=list)
    protect: bool = False


@dataclass(frozen=True)
class Identity:
    """How the server's pods get AWS credentials."""

    oidc_provider_arn: pulumi.Input[str] | None = None  # IRSA
    oidc_issuer: pulumi.Input[str] | None = None  # without https://
    pod_identity_cluster: str | None = None  # EKS Pod Identity


def artifact_bucket(parent: pulumi.Resource, name: str, tracker: str, aws_: AwsPlacement) -> SecureBucket:
    bucket = aws_.names.tracking_artifacts_bucket(tracker, aws_.account_id)
    return secure_bucket(
        parent,
        f"{name}-artifacts",
        BucketSettings(
            bucket_name=bucket,
            tags=aws_.tags,
            kms_key_arn=aws_.kms_key_arn,
            access_logs_bucket=aws_.access_logs_bucket,
            access_logs_prefix=f"{bucket}/",
            noncurrent_days=365,
        ),
    )


def trust_policy(identity: Identity, namespace: str, service_account: str) -> pulumi.Output[str]:
    if identity.pod_identity_cluster is not None:
        # EKS User Guide, "Create the IAM role" for Pod Identity: pods.eks.amazonaws.com, AssumeRole + TagSession.
        return policies.document(
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        )
    return pulumi.Output.all(identity.oidc_provider_arn, identity.oidc_issuer).apply(
        lambda v: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": v[0]},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{v[1]}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                                f"{v[1]}:aud": "sts.amazonaws.com",
                            }
                        },
                    }
                ],
            }
        )
    )


def server_role(
    parent: pulumi.Resource,
    name: str,
    tracker: str,
    aws_: AwsPlacement,
    identity: Identity,
    namespace: str,
    service_account: str,
    bucket: SecureBucket,
    db_secret_arn: pulumi.Input[str] | None,
) -> aws.iam.Role:
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-server-role",
        name=aws_.names.role(tracker, "mlflow"),
        assume_role_policy=trust_policy(identity, namespace, service_account),
        tags=aws_.tags,
        opts=child,
    )
    objects = pulumi.Output.concat(bucket.arn, "/mlflow/*")
    statements: list[policies.Statement | None] = [
        policies.allow(
            ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            objects,
            sid="ArtifactObjects",
        ),
        policies.allow(["s3:ListBucket"], bucket.arn, sid="ListArtifacts", StringLike={"s3:prefix": ["mlflow/*"]}),
        policies.kms_use(aws_.kms_key_arn),
    ]
    if db_secret_arn is not None:
        statements.append(
            policies.allow(
                ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], db_secret_arn, sid="DatabaseSecret"
            )
        )
    aws.iam.RolePolicy(f"{name}-server-policy", role=role.id, policy=policies.document(*statements), opts=child)
    if identity.pod_identity_cluster is not None:
        aws.eks.PodIdentityAssociation(
            f"{name}-pod-identity",
            cluster_name=identity.pod_identity_cluster,
            namespace=namespace,
            service_account=service_account,
            role_arn=role.arn,
            tags=aws_.tags,
            opts=child,
        )
    return role


@dataclass
class RdsDatabase:
    instance: aws.rds.Instance
    security_group: aws.ec2.SecurityGroup
    secret_arn: pulumi.Output[str]


def rds_database(
    parent: pulumi.Resource,
    name: str,
    tracker: str,
    aws_: AwsPlacement,
    spec_class: str,
    storage_gb: int,
    multi_az: bool,
) -> RdsDatabase:
    n, child = aws_.names, pulumi.ResourceOptions(parent=parent)
    ident = n.tracking_database(tracker)
    subnets = aws.rds.SubnetGroup(
        f"{name}-db-subnets",
        name=ident,
        subnet_ids=aws_.private_subnet_ids,
        description=f"Private subnets of {ident}",
        tags=aws_.tags,
        opts=child,
    )
    sg = aws.ec2.SecurityGroup(
        f"{name}-db-sg",
        name=ident,
        description=f"PostgreSQL of {ident}: 5432 from the VPC only",
        vpc_id=aws_.vpc_id,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=5432, to_port=5432, cidr_blocks=[aws_.vpc_cidr], description="PostgreSQL"
            )
        ],
        tags=aws_.tags,
        opts=child,
    )
    instance = aws.rds.Instance(
        f"{name}-db",
        identifier=ident,
        engine="postgres",
        engine_version=POSTGRES_ENGINE_VERSION,
        instance_class=spec_class,
        allocated_storage=storage_gb,
        storage_type="gp3",
        storage_encrypted=True,
        kms_key_id=aws_.kms_key_arn,
        db_name=DATABASE,
        username=MASTER_USER,
        manage_master_user_password=True,
        master_user_secret_kms_key_id=aws_.kms_key_arn,
        db_subnet_group_name=subnets.name,
        vpc_security_group_ids=[sg.id],
        publicly_accessible=False,
        multi_az=multi_az,
        backup_retention_period=30 if aws_.protect else 7,
        copy_tags_to_snapshot=True,
        deletion_protection=aws_.protect,
        skip_final_snapshot=not aws_.protect,
        final_snapshot_identifier=f"{ident}-final" if aws_.protect else None,
        auto_minor_version_upgrade=True,
        tags=aws_.tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=aws_.protect, depends_on=[subnets, sg]),
    )
    secret_arn = instance.master_user_secrets.apply(
        lambda s: str(s[0]["secret_arn"] if isinstance(s[0], dict) else s[0].secret_arn)
    )
    return RdsDatabase(instance, sg, secret_arn)


def sync_database_secret(
    parent: pulumi.Resource,
    name: str,
    db: RdsDatabase,
    namespace: str,
    secret_name: str,
    region: str,
    service_account: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """The RDS-managed secret (JSON with username and password) as a Kubernetes Secret."""
    store, external = synced_secret(
        parent,
        f"{name}-db-credentials",
        SyncedSecretArgs(
            namespace=namespace,
            secret_name=secret_name,
            remote_key=db.secret_arn,
            region=region,
            service_account=service_account,
            properties={"username": "username", "password": "password"},
            templated={"password-url": PASSWORD_URL_TEMPLATE},
            labels=labels,
        ),
        opts,
    )
    return [store, external]


def in_cluster_database(
    parent: pulumi.Resource,
    name: str,
    scope: common.Scope,
    release: str,
    secret_name: str,
    storage_class: str,
    storage_gb: int,
    opts: pulumi.ResourceOptions,
) -> tuple[str, list[pulumi.Resource]]:
    """PostgreSQL on the cluster; returns (host, resources the server waits for)."""
    ns = scope.namespace
    physical = f"{release}-postgres"
    labels = scope.labels(name="postgres", instance=physical, component="experiment-tracker-database")
    sel = common.selector(labels)
    meta: Any = {"name": physical, "namespace": ns, "labels": dict(labels)}
    password = random.RandomPassword(
        f"{name}-db-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=parent)
    )
    secret = k8s.core.v1.Secret(
        f"{name}-db-secret",
        metadata={**meta, "name": secret_name},
        type="Opaque",
        # Letters and digits only: the URL form is the password itself.
        string_data={"username": MASTER_USER, "password": password.result, "password-url": password.result},
        opts=opts,
    )
    port = [{"name": "postgres", "port": 5432, "targetPort": "postgres", "protocol": "TCP"}]
    service = k8s.core.v1.Service(f"{name}-db-service", metadata=meta, spec={"selector": sel, "ports": port}, opts=opts)
    ready = {
        "exec": {"command": ["pg_isready", "-U", MASTER_USER, "-d", DATABASE]},
        "periodSeconds": 10,
        "timeoutSeconds": 3,
    }
    container = {
        "name": "postgres",
        "image": POSTGRES_IMAGE,
        "env": [
            {"name": "POSTGRES_USER", "value": MASTER_USER},
            {"name": "POSTGRES_DB", "value": DATABASE},
            {"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret_name, "key": "password"}}},
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "ports": [{"name": "postgres", "containerPort": 5432, "protocol": "TCP"}],
        "resources": common.resources("500m", "1Gi"),
        "livenessProbe": {"tcpSocket": {"port": "postgres"}, "periodSeconds": 10, "timeoutSeconds": 3},
        "readinessProbe": ready,
        "securityContext": common.container_security(POSTGRES_UID),
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            common.tmp_mount(),
        ],
    }
    stateful_set = k8s.apps.v1.StatefulSet(
        f"{name}-db",
        metadata=meta,
        spec={
            "serviceName": physical,
            "replicas": 1,
            "selector": {"matchLabels": sel},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": common.pod_security(POSTGRES_UID),
                    "containers": [container],
                    "volumes": [{"name": "run", "emptyDir": {"sizeLimit": "16Mi"}}, common.tmp_volume("256Mi")],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data", "labels": dict(labels)},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": storage_class,
                        "resources": {"requests": {"storage": f"{storage_gb}Gi"}},
                    },
                }
            ],
        },
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[secret])),
    )
    k8s.networking.v1.NetworkPolicy(
        f"{name}-db-netpol",
        metadata=meta,
        spec={
            "podSelector": {"matchLabels": sel},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchLabels": {
                                    "app.kubernetes.io/name": "mlflow",
                                    "app.kubernetes.io/instance": release,
                                }
                            }
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": 5432}],
                }
            ],
        },
        opts=opts,
    )
    return f"{physical}.{ns}.svc.cluster.local", [secret, service, stateful_set]
