"""ExperimentTracker with backend="mlflow", target="aws": SageMaker managed MLflow.

What it builds: an artifact bucket with the platform's secure defaults (KMS, versioning, public
access blocked, TLS only, access logs); the role the tracking server assumes
(sagemaker.amazonaws.com, this account only) with read/write on that bucket and, with automatic
model registration, the SageMaker Model Registry calls it makes; the tracking server itself
(size and weekly maintenance window per environment); a managed policy for the people who use it
(`sagemaker-mlflow:*` on this server's ARN, presigned UI URLs, the artifacts) attached to the
roles the blueprint names; and the tracking URI (the server's ARN, which the `sagemaker-mlflow`
client plugin resolves) in SSM with the other discovery parameters.

Clients of a SageMaker tracking server read and write artifacts in S3 themselves, with their own
credentials: the users' policy and `grant_use` include the bucket for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.components.aws.buckets import BucketSettings, secure_bucket
from mlplatform.spec.experiment_tracker import ExperimentTracker as TrackerSpec

ARTIFACTS_PREFIX = "mlflow/"
# What the tracking server's role does in the artifact store.
SERVER_S3 = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
# What a client does there: log, download and list artifacts (no deletes: `mlflow gc` is an operator's job).
CLIENT_S3 = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
# Automatic model registration: the Model Registry calls SageMaker documents for the server's role
# ("Set up IAM permissions for MLflow": Access required to AWS Services for MLflow).
REGISTRATION_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateModelPackage",
    "sagemaker:CreateModelPackageGroup",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:UpdateModelPackage",
]
USER_SERVER_ACTIONS = ["sagemaker:CreatePresignedMlflowTrackingServerUrl", "sagemaker:DescribeMlflowTrackingServer"]


@dataclass
class ManagedMlflowArgs:
    spec: TrackerSpec
    names: naming.Names
    tags: dict[str, str]
    account_id: str
    region: str
    kms_key_arn: pulumi.Input[str]
    access_logs_bucket: pulumi.Input[str]
    partition: str = "aws"
    protect: bool = False  # prod: the artifact bucket cannot be deleted by `pulumi up`
    noncurrent_days: int = 365


class ManagedMlflow(pulumi.ComponentResource):
    """Outputs: `tracking_server_arn`, `tracking_server_url`, `artifact_bucket`, `users_policy_arn`."""

    def __init__(self, name: str, args: ManagedMlflowArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:ExperimentTracker", name, None, opts)
        spec, n, a = args.spec, args.names, args
        self.args = args
        child = pulumi.ResourceOptions(parent=self)
        bucket_name = n.tracking_artifacts_bucket(spec.name, a.account_id)
        self.artifacts = secure_bucket(
            self,
            f"{name}-artifacts",
            BucketSettings(
                bucket_name=bucket_name,
                tags=a.tags,
                kms_key_arn=a.kms_key_arn,
                access_logs_bucket=a.access_logs_bucket,
                access_logs_prefix=f"{bucket_name}/",
                noncurrent_days=a.noncurrent_days,
            ),
        )
        self.role = policies.service_role(
            f"{name}-server-role", n.role(spec.name, "mlflow"), "sagemaker.amazonaws.com", a.tags, child, a.account_id
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-server-policy",
            role=self.role.id,
            policy=policies.document(*self._server_statements()),
            opts=child,
        )
        self.server = aws.sagemaker.MlflowTrackingServer(
            f"{name}-server",
            tracking_server_name=n.tracking_server(spec.name),
            artifact_store_uri=pulumi.Output.concat("s3://", self.artifacts.name, "/", ARTIFACTS_PREFIX),
            role_arn=self.role.arn,
            tracking_server_size=spec.size,
            mlflow_version=spec.mlflow_version,
            weekly_maintenance_window_start=spec.maintenance_window,
            automatic_model_registration=spec.automatic_model_registration,
            tags=a.tags,
            # SageMaker checks at create time that it can assume the role and reach the bucket.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy, self.artifacts.policy]),
        )
        self.users_policy = aws.iam.Policy(
            f"{name}-users",
            name=n.role(spec.name, "mlflow-users"),
            description=f"Use the MLflow tracking server {n.tracking_server(spec.name)}",
            policy=policies.document(*self.use_statements()),
            tags=a.tags,
            opts=child,
        )
        self.user_attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-users-{role}", role=role, policy_arn=self.users_policy.arn, opts=child
            )
            for role in spec.user_roles
        ]
        self.tracking_uri: pulumi.Output[str] = self.server.arn
        self.parameter = aws.ssm.Parameter(
            f"{name}-ssm-tracking-uri",
            name=n.ssm_parameter(naming.ssm_tracking_uri_key(spec.name)),
            type="String",
            insecure_value=self.tracking_uri,
            description=f"mlflow tracking URI of {spec.name}",
            tags=a.tags,
            opts=child,
        )
        self.register_outputs(
            {
                "tracking_server_arn": self.server.arn,
                "tracking_server_url": self.server.tracking_server_url,
                "artifact_bucket": self.artifacts.name,
                "users_policy_arn": self.users_policy.arn,
            }
        )

    def _objects(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.artifacts.arn, "/", ARTIFACTS_PREFIX, "*")

    def _server_statements(self) -> list[policies.Statement]:
        spec, a = self.args.spec, self.args
        statements = [
            policies.allow(SERVER_S3, self._objects(), sid="ArtifactObjects"),
            policies.allow(["s3:GetBucketLocation", "s3:ListBucket"], self.artifacts.arn, sid="ArtifactBucket"),
            policies.allow(policies.KMS_USE, a.kms_key_arn, sid="UsePlatformKey"),
        ]
        if spec.automatic_model_registration:
            scope = f"arn:{a.partition}:sagemaker:{a.region}:{a.account_id}"
            statements.append(
                policies.allow(
                    REGISTRATION_ACTIONS,
                    [f"{scope}:model-package-group/*", f"{scope}:model-package/*"],
                    sid="AutomaticModelRegistration",
                )
            )
        return statements

    def use_statements(self) -> list[policies.Statement]:
        """What a client of this server needs: the MLflow API on this server only, presigned UI
        URLs for it, and the artifacts it logs and reads."""
        return [
            policies.allow(["sagemaker-mlflow:*"], self.server.arn, sid="MlflowApiOnThisServer"),
            policies.allow(USER_SERVER_ACTIONS, self.server.arn, sid="TrackingServerUi"),
            policies.allow(CLIENT_S3, self._objects(), sid="ArtifactObjects"),
            policies.allow(
                ["s3:ListBucket"],
                self.artifacts.arn,
                sid="ListArtifacts",
                StringLike={"s3:prefix": [f"{ARTIFACTS_PREFIX}*"]},
            ),
            policies.allow(policies.KMS_USE, self.args.kms_key_arn, sid="UsePlatformKey"),
        ]

    def grant_use(self, role: aws.iam.Role, label: str) -> aws.iam.RolePolicy:
        """Let `role` (e.g. a training job role) use this tracking server."""
        return aws.iam.RolePolicy(
            f"{self._name}-use-{label}",
            role=role.id,
            policy=policies.document(*self.use_statements()),
            opts=pulumi.ResourceOptions(parent=self),
        )


def secret_arn_pattern(secret: str, region: str, account_id: str, partition: str) -> str:
    """The ARN IAM matches for a Secrets Manager secret named by name or ARN. Secrets Manager
    appends six random characters to a secret's name in its ARN, hence `-??????`."""
    if secret.startswith("arn:"):
        return secret
    return f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{secret}-??????"


def grant_secret_read(
    parent: pulumi.Resource, name: str, role: aws.iam.Role, secret_arn: pulumi.Input[str]
) -> aws.iam.RolePolicy:
    """`secretsmanager:GetSecretValue` (and DescribeSecret) on one secret, nothing else."""
    return aws.iam.RolePolicy(
        name,
        role=role.id,
        policy=policies.document(
            policies.allow(
                ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], secret_arn, sid="ReadOneSecret"
            )
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
