"""FeatureStore on AWS: every store Feast uses, created by the platform so that Feast creates none.

- `offline_store(parent, name, args)`: an S3 bucket with every secure default, laid out as
  mlplatform.naming says (data prefixes expire after the retention, the Feast registry never,
  Feast's and Athena's temporary objects after days), a Glue database for its tables, and the
  Athena workgroup Feast queries in (results encrypted into the bucket). A kubernetes
  FeatureStore (Redis online store) reuses it under its own component.
- One DynamoDB table per declared online feature view, with the name and key schema Feast's
  DynamoDB online store uses (`<project>.<view>`, hash key `entity_id`), on-demand, point-in-time
  recovery, KMS, deletion protection and Pulumi protect in production.
- Optional SageMaker Feature Groups.
- One managed IAM policy per Feast operation (feast_access.py), and the `feature_store.yaml`
  output (mlplatform.feast_config), the same text `mlplatform feast-config` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from mlplatform import feast_config, naming
from mlplatform.components.aws import feast_access, policies
from mlplatform.components.aws.buckets import BucketSettings, SecureBucket, secure_bucket
from mlplatform.spec.feature_store import FeatureStore as FeatureStoreSpec

# Key schema of every table Feast's DynamoDB online store reads and writes
# (feast/infra/online_stores/dynamodb.py: KeySchema entity_id HASH, AttributeType S).
FEAST_HASH_KEY = "entity_id"
# Feast's temporary objects (staging) and Athena's query results are kept this many days. Feast
# deletes its unloaded results itself, but looks for its entity uploads under `entity_df/` at the
# bucket's root rather than under the staging location it wrote them to, so those stay until expired.
STAGING_EXPIRE_DAYS = 1
RESULTS_EXPIRE_DAYS = 7


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
    partition: str = "aws"


@dataclass
class OfflineStore:
    bucket: SecureBucket
    database: aws.glue.CatalogDatabase
    workgroup: aws.athena.Workgroup

    @property
    def uri(self) -> pulumi.Output[str]:
        return pulumi.Output.concat("s3://", self.bucket.name)


def offline_store(parent: pulumi.Resource, name: str, a: OfflineStoreArgs) -> OfflineStore:
    """The offline store, created as children of `parent` and named `<name>-offline*`."""
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
            expire_days=None,  # by prefix below: a bucket-wide rule would expire the Feast registry
            noncurrent_days=min(30, a.retention_days),
            extra_rules=_lifecycle(a.retention_days),
        ),
    )
    database = aws.glue.CatalogDatabase(
        f"{name}-offline-catalog",
        name=a.names.glue_database(a.store),
        description=f"Offline features of {a.store} ({a.names.env})",
        location_uri=pulumi.Output.concat("s3://", bucket.name, "/", naming.OFFLINE_DATA_PREFIX),
        tags=a.tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    results = aws.athena.WorkgroupConfigurationResultConfigurationArgs(
        output_location=pulumi.Output.concat("s3://", bucket.name, "/", naming.ATHENA_RESULTS_PREFIX),
        encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
            encryption_option="SSE_KMS" if a.kms_key_arn is not None else "SSE_S3",
            kms_key_arn=a.kms_key_arn,
        ),
        expected_bucket_owner=a.account_id,
    )
    workgroup = aws.athena.Workgroup(
        f"{name}-athena",
        name=a.names.athena_workgroup(a.store),
        description=f"Feast offline store of {a.store} ({a.names.env})",
        configuration=aws.athena.WorkgroupConfigurationArgs(
            result_configuration=results,
            # Not enforced: Athena fails a CTAS with external_location in a workgroup that enforces
            # its results location, and Feast unloads every result with one. Feast sets no
            # client-side location, so this one applies; the minimum encryption is enforced.
            enforce_workgroup_configuration=False,
            enable_minimum_encryption_configuration=True,
            publish_cloudwatch_metrics_enabled=True,
        ),
        state="ENABLED",
        force_destroy=False,
        tags=a.tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return OfflineStore(bucket, database, workgroup)


def _lifecycle(retention_days: int) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    def expire(rule_id: str, prefix: str, days: int) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
        return aws.s3.BucketLifecycleConfigurationRuleArgs(
            id=rule_id,
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix),
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
        )

    return [
        expire("expire-data-after-retention", naming.OFFLINE_DATA_PREFIX, retention_days),
        expire("expire-sagemaker-offline-after-retention", naming.OFFLINE_SAGEMAKER_PREFIX, retention_days),
        expire("expire-feast-staging", naming.FEAST_STAGING_PREFIX, STAGING_EXPIRE_DAYS),
        expire("expire-athena-results", naming.ATHENA_RESULTS_PREFIX, RESULTS_EXPIRE_DAYS),
    ]


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


def feast_policies(
    parent: pulumi.Resource, name: str, access: feast_access.FeastResources, tags: dict[str, str]
) -> dict[str, aws.iam.Policy]:
    """One managed policy per Feast operation, for teams to attach to the roles that run it."""
    n, store = access.names, access.store
    return {
        operation: aws.iam.Policy(
            f"{name}-feast-{operation}",
            name=n.feast_policy(store, operation),
            description=f"Feast {operation} on FeatureStore {store} ({n.env})",
            policy=policies.document(*feast_access.statements(operation, access)),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for operation in feast_access.OPERATIONS
    }


def attach(
    parent: pulumi.Resource,
    name: str,
    found: dict[str, aws.iam.Policy],
    role: aws.iam.Role,
    label: str,
    operations: tuple[str, ...],
) -> list[aws.iam.RolePolicyAttachment]:
    return [
        aws.iam.RolePolicyAttachment(
            f"{name}-{operation}-{label}",
            role=role.name,
            policy_arn=found[operation].arn,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for operation in operations
    ]


class FeatureStore(pulumi.ComponentResource):
    """Outputs: `offline_bucket`, `glue_database`, `athena_workgroup`, `online_tables` (feature view
    -> table), `feast_policies` (operation -> managed policy ARN), `feature_store_yaml`."""

    def __init__(self, name: str, args: FeatureStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:FeatureStore", name, None, opts)
        spec, n = args.spec, args.names
        self.args = args
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

        self.online_tables: dict[str, aws.dynamodb.Table] = {}
        if spec.online_store == "dynamodb":
            for view in spec.online_views():
                self.online_tables[view.name] = self._online_table(name, view.name)
        if args.protect and self.online_tables:
            pulumi.log.info(f"FeatureStore '{spec.name}': online tables are protected", self)

        self.feature_groups: dict[str, aws.sagemaker.FeatureGroup] = {}
        if spec.feature_groups:
            self._feature_groups(name)

        self.access = feast_access.FeastResources(
            names=n,
            store=spec.name,
            partition=args.partition,
            region=args.region,
            account_id=args.account_id,
            tables=[n.feast_online_table(spec.name, v) for v in self.online_tables],
            key_arn=self.key_arn,
        )
        self.feast_policies = feast_policies(self, name, self.access, args.tags)
        self.feast_yaml: str = feast_config.render(
            spec, feast_config.Target(names=n, region=args.region, account_id=args.account_id, tags=args.tags)
        )
        self.register_outputs(
            {
                "offline_bucket": self.offline.bucket.name,
                "glue_database": self.offline.database.name,
                "athena_workgroup": self.offline.workgroup.name,
                "online_tables": {v: t.name for v, t in self.online_tables.items()},
                "feast_policies": {op: p.arn for op, p in self.feast_policies.items()},
                "feature_groups": sorted(self.feature_groups),
                "feature_store_yaml": self.feast_yaml,
                "opt_outs": self.opt_outs,
            }
        )

    def _online_table(self, name: str, view: str) -> aws.dynamodb.Table:
        """The table Feast's DynamoDB online store finds for `view` (it describes the table before
        it would create one), with the platform's defaults instead of Feast's bare ones."""
        a, opt_out = self.args, set(self.args.spec.opt_out)
        return aws.dynamodb.Table(
            f"{name}-online-{view}",
            name=a.names.feast_online_table(a.spec.name, view),
            billing_mode="PAY_PER_REQUEST",
            hash_key=FEAST_HASH_KEY,
            attributes=[aws.dynamodb.TableAttributeArgs(name=FEAST_HASH_KEY, type="S")],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled="point_in_time_recovery" not in opt_out
            ),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=self.key_arn is not None, kms_key_arn=self.key_arn
            ),
            deletion_protection_enabled=a.protect,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=a.protect),
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
        prefix = pulumi.Output.concat(self.offline.bucket.arn, f"/{naming.OFFLINE_SAGEMAKER_PREFIX}*")
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
                        s3_uri=pulumi.Output.concat(self.offline.uri, "/", naming.OFFLINE_SAGEMAKER_PREFIX.rstrip("/")),
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

    # --- Feast operations ------------------------------------------------------------------
    def grant(self, role: aws.iam.Role, label: str, *operations: str) -> list[aws.iam.RolePolicyAttachment]:
        """Attach the policies of Feast `operations` (feast_access.OPERATIONS) to `role`."""
        return attach(self, self._name, self.feast_policies, role, label, operations)

    def grant_read(self, role: aws.iam.Role, label: str) -> list[aws.iam.RolePolicyAttachment]:
        """Let `role` read features: get_historical_features and get_online_features."""
        return self.grant(role, label, feast_access.HISTORICAL, feast_access.ONLINE_READ)

    def grant_write(self, role: aws.iam.Role, label: str) -> list[aws.iam.RolePolicyAttachment]:
        """Let `role` write features: materialize, write_to_online_store, push."""
        return self.grant(role, label, feast_access.MATERIALIZE)
