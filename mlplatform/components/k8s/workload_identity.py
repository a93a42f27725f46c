"""AWS credentials for pods that read the model registry: an IAM role per ServiceAccount.

Two mechanisms, as the cluster declares (`Platform.kubernetes.workload_identity`):
- IRSA: the role trusts the cluster's IAM OIDC provider, only for the token of one
  ServiceAccount (`sub` = system:serviceaccount:<namespace>:<name>, `aud` = sts.amazonaws.com);
  the ServiceAccount names the role in `eks.amazonaws.com/role-arn` and the pod identity webhook
  injects the web identity token ("IAM roles for service accounts", EKS User Guide). Works on any
  cluster whose token issuer is registered as an IAM OIDC provider and which runs the webhook.
- EKS Pod Identity: the role trusts `pods.eks.amazonaws.com` (sts:AssumeRole and sts:TagSession,
  for this account's cluster), and a PodIdentityAssociation binds it to the ServiceAccount.

The role reads one model's prefix of the registry and decrypts through S3 only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
# Regional STS endpoints: the token exchange stays in the region (and inside a VPC endpoint).
STS_REGIONAL_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"
# KServe's storage initializer reads its S3 settings from the ServiceAccount's annotations when
# it carries an IRSA role (kserve pkg/credentials/s3: BuildServiceAccountEnvs).
KSERVE_S3_REGION_ANNOTATION = "serving.kserve.io/s3-region"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


@dataclass(frozen=True)
class Irsa:
    provider_arn: pulumi.Input[str]
    issuer: pulumi.Input[str]  # without https://


@dataclass(frozen=True)
class PodIdentity:
    cluster_name: str


Identity = Irsa | PodIdentity


@dataclass(frozen=True)
class Registry:
    """Where promoted model versions are: the environment's registry bucket and its key."""

    bucket: str
    key_arn: pulumi.Input[str]
    region: str
    account_id: str
    partition: str = "aws"

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"

    def model_prefix(self, model: str) -> str:
        return f"{naming.REGISTRY_MODELS_PREFIX}{model}/"


def trust_policy(identity: Identity, namespace: str, service_account: str, registry: Registry) -> pulumi.Output[str]:
    if isinstance(identity, Irsa):
        subject = f"system:serviceaccount:{namespace}:{service_account}"
        return pulumi.Output.all(identity.provider_arn, identity.issuer).apply(
            lambda v: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": v[0]},
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {"StringEquals": {f"{v[1]}:sub": subject, f"{v[1]}:aud": "sts.amazonaws.com"}},
                        }
                    ],
                }
            )
        )
    r = registry
    cluster_arn = f"arn:{r.partition}:eks:{r.region}:{r.account_id}:cluster/{identity.cluster_name}"
    return policies.document(
        {
            "Effect": "Allow",
            "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": registry.account_id},
                "ArnEquals": {"aws:SourceArn": cluster_arn},
            },
        }
    )


def read_statements(registry: Registry, model: str, *, list_bucket: bool) -> list[policies.Statement]:
    """GetObject on the model's prefix; kms:Decrypt only through S3 for this bucket (with S3
    Bucket Keys, which the registry uses, the encryption context is the bucket ARN). KServe's
    storage initializer also calls HeadBucket and ListObjects with the artifact as prefix, both
    authorized by s3:ListBucket: `...IfExists` lets HeadBucket (which has no prefix) through and
    keeps listings to the model's prefix."""
    prefix = registry.model_prefix(model)
    statements = [
        policies.allow(["s3:GetObject"], f"{registry.bucket_arn}/{prefix}*", sid="ReadModelVersions"),
        policies.allow(
            ["kms:Decrypt"],
            registry.key_arn,
            sid="DecryptThroughS3",
            StringEquals={
                "kms:ViaService": f"s3.{registry.region}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": registry.bucket_arn,
            },
        ),
    ]
    if list_bucket:
        statements.append(
            policies.allow(
                ["s3:ListBucket"],
                registry.bucket_arn,
                sid="FindModelVersions",
                StringLikeIfExists={"s3:prefix": [f"{prefix}*"]},
            )
        )
    return statements


@dataclass
class ReaderRole:
    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    association: aws.eks.PodIdentityAssociation | None
    annotations: dict[str, pulumi.Input[str]]

    @property
    def resources(self) -> list[pulumi.Resource]:
        """What a pod must wait for before it can get credentials."""
        found: list[pulumi.Resource] = [self.role, self.policy]
        if self.association is not None:
            found.append(self.association)
        return found


def registry_reader(
    name: str,
    *,
    role_name: str,
    identity: Identity,
    namespace: str,
    service_account: str,
    registry: Registry,
    model: str,
    kserve: bool,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> ReaderRole:
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-model-reader",
        name=role_name,
        assume_role_policy=trust_policy(identity, namespace, service_account, registry),
        tags=tags,
        opts=opts,
    )
    policy = aws.iam.RolePolicy(
        f"{name}-model-read",
        role=role.id,
        policy=policies.document(*read_statements(registry, model, list_bucket=kserve)),
        opts=opts,
    )
    association = None
    annotations: dict[str, pulumi.Input[str]] = {}
    if isinstance(identity, PodIdentity):
        association = aws.eks.PodIdentityAssociation(
            f"{name}-pod-identity",
            cluster_name=identity.cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=role.arn,
            tags=tags,
            opts=opts,
        )
    else:
        annotations = {ROLE_ANNOTATION: role.arn, STS_REGIONAL_ANNOTATION: "true"}
        if kserve:
            annotations[KSERVE_S3_REGION_ANNOTATION] = registry.region
    return ReaderRole(role, policy, association, annotations)
