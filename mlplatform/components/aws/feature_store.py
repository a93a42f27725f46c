"""FeatureStore on AWS: S3 offline store with a Glue database, DynamoDB online store,
optional SageMaker Feature Groups, grants, and a Feast `feature_store.yaml` for the environment.

`offline_store(parent, name, args)` is the S3 + Glue piece on its own: a kubernetes FeatureStore
(Redis online store on the cluster) reuses it for its offline store, under its own component.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.components.aws.buckets import BucketSettings, SecureBucket, secure_bucket
from mlplatform.spec.feature_store import FeatureStore as FeatureStoreSpec

# Prefixes of the offline bucket.
FEAST_REGISTRY_KEY = "feast/registry.db"
SAGEMAKER_OFFLINE_PREFIX = "sagemaker-feature-store"
ATHENA_RESULTS_PREFIX = "athena-results"
# Attribute names of the online table.
ONLINE_HASH_KEY = "entity_key"
ONLINE_RANGE_KEY = "feature_view"
ONLINE_TTL_ATTRIBUTE = "expires_at"


@dataclass
class OfflineStoreArgs:
    store: str  # the FeatureStore's spec name
    names: naming.Names
    tags: dict[str, str]
    account_id: str
    retention_days: int
    kms_key_arn: pulumi.Input[str] | None  # None: SSE-S3 (opt-out kms_encryption)
    access_logs_bucket: pulumi.Input[str] | None  # None: no access logging (opt-out access_logging)
    versioning: bool = True


@dataclass
class OfflineStore:
    bucket: SecureBucket
    database: aws.glue.CatalogDatabase

    @property
    def uri(self) -> pulumi.Output[str]:
        return pulumi.Output.concat("s3://", self.bucket.name)


def offline_store(parent: pulumi.Resource, name: str, a: OfflineStoreArgs) -> OfflineStore:
    """The offline store (S3 bucket with every secure default, lifecycle by retention, and a Glue
    database for its tables), created as children of `parent` and named `<name>-offline*`."""
    bucket_name = a.names.offline_store_bucket(a.store, a.account_id)
    bucket = secure_bucket(
        parent,
        f"{name}-offline",
        BucketSettings(
            bucket_name=bucket_name,
            tags=a.tags,
            kms_key_arn=a.kms_key_arn,
            versioning=a.versioning,
            access_logs_bucket=a.access_logs_bucket,
            access_logs_prefix=f"{bucket_name}/",
            expire_days=a.retention_days,
            noncurrent_days=min(30, a.retention_days),
        ),
    )
    database = aws.glue.CatalogDatabase(
        f"{name}-offline-catalog",
        name=a.names.glue_database(a.store),
        description=f"Offline features of {a.store} ({a.names.env})",
        location_uri=pulumi.Output.concat("s3://", bucket.name, "/"),
        tags=a.tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return OfflineStore(bucket, database)


@dataclass
class FeatureStoreArgs:
    spec: FeatureStoreSpec
    names: naming.Names
    tags: dict[str, str]
    account_id: str
    region: str
    kms_key_arn: pulumi.Input[str]
    access_logs_bucket: pulumi.Input[str]
    partition: str = "aws"
    protect: bool = False
    opt_outs: list[str] = field(default_factory=list)


class FeatureStore(pulumi.ComponentResource):
    online_table: aws.dynamodb.Table | None

    def __init__(self, name: str, args: FeatureStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:FeatureStore", name, None, opts)
        spec, n = args.spec, args.names
        self.args = args
        child = pulumi.ResourceOptions(parent=self)
        opt_out = set(spec.opt_out)
        self.opt_outs = sorted(opt_out)
        for item in self.opt_outs:
            pulumi.log.warn(f"FeatureStore '{spec.name}': secure default '{item}' is turned off (opt_out)", self)
        self.key_arn: pulumi.Input[str] | None = None if "kms_encryption" in opt_out else args.kms_key_arn

        self.offline = offline_store(
            self,
            name,
            OfflineStoreArgs(
                store=spec.name,
                names=n,
                tags=args.tags,
                account_id=args.account_id,
                retention_days=spec.offline_retention_days,
                kms_key_arn=self.key_arn,
                access_logs_bucket=None if "access_logging" in opt_out else args.access_logs_bucket,
                versioning="versioning" not in opt_out,
            ),
        )

        self.online_table = None
        if spec.online_store == "dynamodb":
            ttl = (
                aws.dynamodb.TableTtlArgs(attribute_name=ONLINE_TTL_ATTRIBUTE, enabled=True)
                if spec.online_ttl_days
                else None
            )
            self.online_table = aws.dynamodb.Table(
                f"{name}-online",
                name=n.online_store_table(spec.name),
                billing_mode="PAY_PER_REQUEST",
                hash_key=ONLINE_HASH_KEY,
                range_key=ONLINE_RANGE_KEY,
                attributes=[
                    aws.dynamodb.TableAttributeArgs(name=ONLINE_HASH_KEY, type="S"),
                    aws.dynamodb.TableAttributeArgs(name=ONLINE_RANGE_KEY, type="S"),
                ],
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                    enabled="point_in_time_recovery" not in opt_out
                ),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                    enabled=self.key_arn is not None, kms_key_arn=self.key_arn
                ),
                ttl=ttl,
                deletion_protection_enabled=args.protect,
                tags=args.tags,
                opts=child,
            )

        self.feature_groups: dict[str, aws.sagemaker.FeatureGroup] = {}
        if spec.feature_groups:
            self._feature_groups(name)

        self.feast_yaml = self._feast_yaml()
        self.register_outputs(
            {
                "offline_bucket": self.offline.bucket.name,
                "glue_database": self.offline.database.name,
                "online_table": self.online_table.name if self.online_table else None,
                "feature_groups": sorted(self.feature_groups),
                "feature_store_yaml": self.feast_yaml,
                "opt_outs": self.opt_outs,
            }
        )

    # --- SageMaker Feature Groups ------------------------------------------------------
    def _feature_groups(self, name: str) -> None:
        spec, n, a = self.args.spec, self.args.names, self.args
        child = pulumi.ResourceOptions(parent=self)
        role = policies.service_role(
            f"{name}-feature-groups-role",
            n.role(spec.name, "feature-groups"),
            "sagemaker.amazonaws.com",
            a.tags,
            child,
            account_id=a.account_id,
        )
        prefix = pulumi.Output.concat(self.offline.bucket.arn, f"/{SAGEMAKER_OFFLINE_PREFIX}/*")
        glue = f"arn:{a.partition}:glue:{a.region}:{a.account_id}"
        self.feature_groups_policy = aws.iam.RolePolicy(
            f"{name}-feature-groups-policy",
            role=role.id,
            policy=policies.document(
                policies.allow(["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl"], prefix, sid="OfflineStoreObjects"),
                policies.allow(["s3:GetBucketAcl", "s3:ListBucket"], self.offline.bucket.arn, sid="OfflineStoreBucket"),
                policies.allow(
                    ["glue:CreateTable", "glue:GetTable", "glue:UpdateTable", "glue:GetDatabase"],
                    [
                        f"{glue}:catalog",
                        f"{glue}:database/{n.glue_database(spec.name)}",
                        f"{glue}:table/{n.glue_database(spec.name)}/*",
                    ],
                    sid="OfflineStoreCatalog",
                ),
                policies.kms_use(self.key_arn),
                policies.kms_grant(self.key_arn),
            ),
            opts=child,
        )
        ttl = (
            aws.sagemaker.FeatureGroupOnlineStoreConfigTtlDurationArgs(unit="Days", value=spec.online_ttl_days)
            if spec.online_ttl_days
            else None
        )
        for group in spec.feature_groups:
            physical = n.feature_group(spec.name, group.name)
            self.feature_groups[group.name] = aws.sagemaker.FeatureGroup(
                f"{name}-{group.name}",
                feature_group_name=physical,
                record_identifier_feature_name=group.record_identifier,
                event_time_feature_name=group.event_time_feature,
                role_arn=role.arn,
                feature_definitions=[
                    aws.sagemaker.FeatureGroupFeatureDefinitionArgs(feature_name=f.name, feature_type=f.type)
                    for f in group.features
                ],
                online_store_config=aws.sagemaker.FeatureGroupOnlineStoreConfigArgs(
                    enable_online_store=True,
                    security_config=aws.sagemaker.FeatureGroupOnlineStoreConfigSecurityConfigArgs(
                        kms_key_id=self.key_arn
                    )
                    if self.key_arn is not None
                    else None,
                    ttl_duration=ttl,
                ),
                offline_store_config=aws.sagemaker.FeatureGroupOfflineStoreConfigArgs(
                    s3_storage_config=aws.sagemaker.FeatureGroupOfflineStoreConfigS3StorageConfigArgs(
                        s3_uri=pulumi.Output.concat(self.offline.uri, f"/{SAGEMAKER_OFFLINE_PREFIX}"),
                        kms_key_id=self.key_arn,
                    ),
                    data_catalog_config=aws.sagemaker.FeatureGroupOfflineStoreConfigDataCatalogConfigArgs(
                        catalog="AwsDataCatalog",
                        database=self.offline.database.name,
                        table_name=physical.replace("-", "_"),
                    ),
                ),
                tags=a.tags,
                # The role must be able to write before SageMaker creates the offline store.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.feature_groups_policy]),
            )

    # --- Feast ---------------------------------------------------------------------------
    def _feast_yaml(self) -> pulumi.Output[str]:
        """feature_store.yaml for Feast: provider aws, the DynamoDB online store (Feast's tables
        share the online table's name as prefix, so the grants cover them), the Athena offline
        store over the Glue database with results in the offline bucket, the registry in S3."""
        spec, n, a = self.args.spec, self.args.names, self.args
        online: dict[str, object] | None = None
        if self.online_table is not None:
            online = {
                "type": "dynamodb",
                "region": a.region,
                "table_name_template": f"{n.online_store_table(spec.name)}.{{project}}.{{table_name}}",
            }

        def render(bucket: str, database: str) -> str:
            config: dict[str, object] = {
                "project": n.feast_project(spec.name),
                "provider": "aws",
                "registry": f"s3://{bucket}/{FEAST_REGISTRY_KEY}",
                "online_store": online,  # null: no online store
                "offline_store": {
                    "type": "athena",
                    "region": a.region,
                    "database": database,
                    "data_source": "AwsDataCatalog",
                    "workgroup": "primary",
                    "s3_staging_location": f"s3://{bucket}/{ATHENA_RESULTS_PREFIX}",
                },
                "entity_key_serialization_version": 3,
            }
            return to_yaml(config)

        return pulumi.Output.all(self.offline.bucket.name, self.offline.database.name).apply(
            lambda v: render(str(v[0]), str(v[1]))
        )

    # --- grants --------------------------------------------------------------------------
    def _online_arns(self) -> list[pulumi.Input[str]]:
        if self.online_table is None:
            return []
        # The table itself and Feast's per-feature-view tables that share its name as prefix.
        return [self.online_table.arn, pulumi.Output.concat(self.online_table.arn, ".*")]

    def read_statements(self) -> list[policies.Statement]:
        objects = pulumi.Output.concat(self.offline.bucket.arn, "/*")
        found = [
            policies.allow(["s3:GetObject"], objects, sid="ReadOfflineFeatures"),
            policies.allow(["s3:ListBucket"], self.offline.bucket.arn, sid="ListOfflineFeatures"),
        ]
        a, n = self.args, self.args.names
        glue = f"arn:{a.partition}:glue:{a.region}:{a.account_id}"
        database = n.glue_database(a.spec.name)
        found += [
            policies.allow(
                ["glue:GetDatabase", "glue:GetPartitions", "glue:GetTable", "glue:GetTables"],
                [f"{glue}:catalog", f"{glue}:database/{database}", f"{glue}:table/{database}/*"],
                sid="ReadFeatureCatalog",
            ),
            policies.allow(
                ["athena:GetQueryExecution", "athena:GetQueryResults", "athena:StartQueryExecution"],
                f"arn:{a.partition}:athena:{a.region}:{a.account_id}:workgroup/primary",
                sid="QueryOfflineFeatures",
            ),
            policies.allow(
                ["s3:PutObject"],
                pulumi.Output.concat(self.offline.bucket.arn, f"/{ATHENA_RESULTS_PREFIX}/*"),
                sid="WriteQueryResults",
            ),
        ]
        if self.online_table is not None:
            found.append(
                policies.allow(
                    ["dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query"],
                    self._online_arns(),
                    sid="ReadOnlineFeatures",
                )
            )
        if self.key_arn is not None:
            # Query results are written encrypted, so reading needs data keys too.
            found.append(policies.kms_use(self.key_arn))  # type: ignore[arg-type]
        return found

    def write_statements(self) -> list[policies.Statement]:
        objects = pulumi.Output.concat(self.offline.bucket.arn, "/*")
        found = [
            policies.allow(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], objects, sid="WriteOfflineFeatures"),
            policies.allow(["s3:ListBucket"], self.offline.bucket.arn, sid="ListOfflineFeatures"),
        ]
        if self.online_table is not None:
            found.append(
                policies.allow(
                    [
                        "dynamodb:BatchWriteItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:DescribeTable",
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                    ],
                    self._online_arns(),
                    sid="WriteOnlineFeatures",
                )
            )
        use = policies.kms_use(self.key_arn)
        if use:
            found.append(use)
        return found

    def grant_read(self, role: aws.iam.Role, label: str) -> aws.iam.RolePolicy:
        """Let `role` read offline and online features (nothing else)."""
        return aws.iam.RolePolicy(
            f"{self._name}-read-{label}",
            role=role.id,
            policy=policies.document(*self.read_statements()),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def grant_write(self, role: aws.iam.Role, label: str) -> aws.iam.RolePolicy:
        """Let `role` write offline and online features (materialisation, ingestion jobs)."""
        return aws.iam.RolePolicy(
            f"{self._name}-write-{label}",
            role=role.id,
            policy=policies.document(*self.write_statements()),
            opts=pulumi.ResourceOptions(parent=self),
        )


def to_yaml(value: dict[str, object], indent: int = 0) -> str:
    """Block-style YAML of nested mappings of scalars; strings are JSON-quoted (valid YAML)."""
    lines: list[str] = []
    pad = " " * indent
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{pad}{key}:")
            lines.append(to_yaml(item, indent + 2).rstrip("\n"))
        else:
            lines.append(f"{pad}{key}: {json.dumps(item)}")
    return "\n".join(lines) + "\n"
