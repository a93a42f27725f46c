"""Physical names of everything mlplatform creates.

One module serves the Pulumi components, the promotion CLI and the local sandbox, so a
name the CLI looks up is, by construction, the name `pulumi up` created. Validation uses the
same functions to check AWS and Kubernetes naming limits before anything is deployed.

Imports nothing but the standard library: the CLI's promote path imports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Limits from the AWS and Kubernetes documentation.
S3_BUCKET_MAX = 63
SAGEMAKER_NAME_MAX = 63
IAM_ROLE_MAX = 64
DYNAMODB_TABLE_MAX = 255
EKS_CLUSTER_MAX = 100
DNS_LABEL_MAX = 63
RDS_IDENTIFIER_MAX = 63

# An AWS account id is 12 digits; bucket names carry it for global uniqueness.
ACCOUNT_ID_PLACEHOLDER = "123456789012"

_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SAGEMAKER = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_IAM_ROLE = re.compile(r"^[\w+=,.@-]{1,64}$")


@dataclass(frozen=True)
class Names:
    """Names for one platform in one environment."""

    platform: str
    env: str

    @property
    def prefix(self) -> str:
        return f"{self.platform}-{self.env}"

    # --- platform core -------------------------------------------------------------
    def registry_bucket(self, account_id: str) -> str:
        return f"{self.prefix}-model-registry-{account_id}"

    def access_logs_bucket(self, account_id: str) -> str:
        return f"{self.prefix}-access-logs-{account_id}"

    def ledger_table(self) -> str:
        return f"{self.prefix}-promotion-ledger"

    def kms_alias(self) -> str:
        return f"alias/mlplatform/{self.platform}/{self.env}"

    def ssm_prefix(self) -> str:
        return f"/mlplatform/{self.platform}/{self.env}"

    def ssm_parameter(self, key: str) -> str:
        return f"{self.ssm_prefix()}/{key}"

    def model_package_group(self, model: str) -> str:
        return f"{self.prefix}-{model}"

    def ledger_archive_bucket(self, account_id: str) -> str:
        """Write-once copy of the ledger (S3 Object Lock): what `history` and `status` verify against."""
        return f"{self.prefix}-ledger-archive-{account_id}"

    def access_role(self, duty: str) -> str:
        """The IAM role of one duty in this environment (ACCESS_DUTIES): deployer, promoter, ..."""
        return f"{self.prefix}-{duty}"

    # --- components ----------------------------------------------------------------
    def offline_store_bucket(self, store: str, account_id: str) -> str:
        return f"{self.prefix}-{store}-offline-{account_id}"

    def feast_online_table(self, store: str, view: str) -> str:
        """The DynamoDB table Feast reads and writes for one feature view: Feast's table name
        template `{project}.{table_name}` (FEAST_TABLE_NAME_TEMPLATE) for the store's project."""
        return FEAST_TABLE_NAME_TEMPLATE.format(project=self.feast_project(store), table_name=view)

    def athena_workgroup(self, store: str) -> str:
        """Athena workgroup Feast's offline store queries in (results location and encryption)."""
        return f"{self.prefix}-{store}"

    def feast_policy(self, store: str, operation: str) -> str:
        """Managed IAM policy for one Feast operation (apply, materialize, online-read, historical)."""
        return f"{self.prefix}-{store}-feast-{operation}"

    def glue_database(self, store: str) -> str:
        # Glue database names allow lowercase letters, digits and underscores only.
        return f"{self.prefix}-{store}".replace("-", "_")

    def eks_cluster(self, cluster: str) -> str:
        return f"{self.prefix}-{cluster}"

    def endpoint(self, endpoint: str) -> str:
        return f"{self.prefix}-{endpoint}"

    def role(self, component: str, purpose: str) -> str:
        return f"{self.prefix}-{component}-{purpose}"

    def model_reader_role(self, endpoint: str) -> str:
        """IAM role of a Kubernetes endpoint's pods: reads its model's versions in the registry."""
        return self.role(endpoint, "model-reader")

    def serving_priority_class(self) -> str:
        """PriorityClass of every serving pod of the platform environment on its cluster."""
        return f"{self.prefix}-serving"

    def namespace(self, component: str) -> str:
        return f"{self.prefix}-{component}"

    def serving_namespace(self) -> str:
        """Kubernetes namespace of endpoints, feature stores and monitoring, unless the
        blueprint names one (Platform.kubernetes.namespace)."""
        return self.prefix

    def redis(self, store: str) -> str:
        """Redis online store of a kubernetes FeatureStore (StatefulSet, Services, Secret prefix)."""
        return f"{self.prefix}-{store}-redis"

    def sns_topic(self, monitoring: str) -> str:
        return f"{self.prefix}-{monitoring}-alerts"

    def alarm(self, endpoint: str, metric: str) -> str:
        return f"{self.prefix}-{endpoint}-{metric}"

    def log_group(self, component: str) -> str:
        return f"/mlplatform/{self.platform}/{self.env}/{component}"

    def dashboard(self) -> str:
        return f"{self.prefix}-ml-platform"

    # --- AWS component details ------------------------------------------------------
    def vpc(self) -> str:
        """Name tag of a VPC the platform creates."""
        return f"{self.prefix}-vpc"

    def security_group(self, purpose: str) -> str:
        return f"{self.prefix}-{purpose}"

    def flow_logs_group(self) -> str:
        return self.log_group("vpc-flow-logs")

    def node_group(self, cluster: str, pool: str) -> str:
        return f"{self.prefix}-{cluster}-{pool}"

    def eks_control_plane_log_group(self, cluster: str) -> str:
        """The log group EKS writes control-plane logs to (its name is fixed by EKS)."""
        return f"/aws/eks/{self.eks_cluster(cluster)}/cluster"

    def priority_class(self, component: str) -> str:
        return f"{self.prefix}-{component}"

    def service_account(self, component: str) -> str:
        return f"{component}-jobs"

    def feature_group(self, store: str, group: str) -> str:
        return f"{self.prefix}-{store}-{group}"

    def feast_project(self, store: str) -> str:
        """Feast project names allow letters, digits and underscores."""
        return f"{self.prefix}-{store}".replace("-", "_")

    def sagemaker_model(self, endpoint: str, version: str, digest: str) -> str:
        """A SageMaker model is immutable: a new version or container setting gets a new name,
        so Pulumi can create the replacement before deleting the one the endpoint uses."""
        return f"{self.prefix}-{endpoint}-v{version}-{digest[:8]}"

    def endpoint_config(self, endpoint: str, digest: str) -> str:
        return f"{self.prefix}-{endpoint}-{digest[:8]}"

    def endpoint_log_group(self, endpoint: str) -> str:
        """The log group SageMaker writes an endpoint's container logs to (name fixed by SageMaker)."""
        return f"/aws/sagemaker/Endpoints/{self.endpoint(endpoint)}"

    def data_quality_job(self, endpoint: str) -> str:
        return f"{self.prefix}-{endpoint}-data-quality"

    def training_failures_alarm(self, cluster: str) -> str:
        """Alarm on training pods that failed in a TrainingCluster's namespace."""
        return f"{self.prefix}-{cluster}-failed-pods"

    def training_queue_alarm(self, cluster: str) -> str:
        """Alarm on workloads that wait too long in a TrainingCluster's Kueue ClusterQueue."""
        return f"{self.prefix}-{cluster}-queue-pending"

    def monitor_alert_rule(self, endpoint: str, outcome: str) -> str:
        """EventBridge rule on Model Monitor executions of an endpoint ('violations', 'failed')."""
        return f"{self.prefix}-{endpoint}-monitor-{outcome}"

    # --- training pipelines -----------------------------------------------------------
    def pipeline(self, pipeline: str) -> str:
        """The SageMaker Pipeline (or the Kubernetes CronJob) of a TrainingPipeline."""
        return f"{self.prefix}-{pipeline}"

    def pipeline_rule(self, pipeline: str, trigger: str) -> str:
        """EventBridge rule that starts a pipeline ('drift', 'alarms', 'new-data') or alerts ('failed')."""
        return f"{self.prefix}-{pipeline}-{trigger}"

    def container_insights_log_group(self, cluster: str, kind: str) -> str:
        """A log group the CloudWatch observability add-on writes to (names fixed by Container Insights)."""
        return f"/aws/containerinsights/{self.eks_cluster(cluster)}/{kind}"

    # --- experiment tracking ----------------------------------------------------------
    def tracking_server(self, tracker: str) -> str:
        """SageMaker MLflow tracking server; on Kubernetes, the Helm release and its objects."""
        return f"{self.prefix}-{tracker}"

    def tracking_artifacts_bucket(self, tracker: str, account_id: str) -> str:
        return f"{self.prefix}-{tracker}-artifacts-{account_id}"

    def tracking_database(self, tracker: str) -> str:
        """RDS instance (and subnet group) of a self-hosted MLflow's backend store."""
        return f"{self.prefix}-{tracker}-db"


# The alarm metrics every watched endpoint gets, by the suffix used in their names.
ENDPOINT_ALARM_METRICS = ("latency-p99", "5xx-rate", "no-invocations", "cpu", "memory")
# The alarms a SageMaker deployment rolls back on: those a bad model version can cause
# (traffic dropping to zero says nothing about the new version).
ROLLBACK_ALARM_METRICS = ("latency-p99", "5xx-rate", "cpu", "memory")
# The alarms that block promoting a version out of an environment while in ALARM: the same ones.
# `no-invocations` treats missing data as breaching, so an idle dev or staging endpoint is in
# ALARM for good; it pages, but says nothing about the version and gates nothing.
PROMOTION_GATE_ALARM_METRICS = ROLLBACK_ALARM_METRICS

# Registry bucket prefixes SageMaker writes to (data capture, Model Monitor reports).
REGISTRY_DATA_CAPTURE_PREFIX = "data-capture/"
REGISTRY_MONITORING_PREFIX = "monitoring/"


def data_capture_prefix(endpoint: str) -> str:
    return f"{REGISTRY_DATA_CAPTURE_PREFIX}{endpoint}/"


def monitoring_reports_prefix(endpoint: str) -> str:
    return f"{REGISTRY_MONITORING_PREFIX}{endpoint}/"


# SSM parameters each environment publishes under `Names.ssm_prefix()` so that the CLI finds
# its resources without the Pulumi CLI. Values are plain strings.
SSM_REGISTRY_BUCKET = "registry-bucket"  # bucket name
SSM_LEDGER_TABLE = "ledger-table"  # DynamoDB table name
SSM_KMS_KEY_ARN = "kms-key-arn"  # key ARN
SSM_ACCOUNT_ID = "account-id"
SSM_REGION = "region"
SSM_LEDGER_ARCHIVE_BUCKET = "ledger-archive-bucket"  # bucket name of the write-once ledger copy


def ssm_access_role_key(duty: str) -> str:
    """Parameter holding the ARN of a duty's role (the approval gate checks who approved)."""
    return f"access/{duty}-role-arn"


# The duties the platform creates one IAM role for, per environment (components/aws/access_roles.py).
ACCESS_DUTIES = ("deployer", "promoter", "approver", "reader", "key-admin")


def ssm_endpoint_key(endpoint: str) -> str:
    """Parameter holding the JSON {"name", "model", "target", "alarms": [...]} of an endpoint."""
    return f"endpoints/{endpoint}"


def ssm_tracking_uri_key(tracker: str) -> str:
    """Parameter holding an ExperimentTracker's tracking URI (MLflow: what MLFLOW_TRACKING_URI is
    set to; W&B: the base URL). `register --from-mlflow` reads it to find the server."""
    return f"trackers/{tracker}/tracking-uri"


def ssm_model_package_group_key(model: str) -> str:
    """Parameter holding the model package group name of a model."""
    return f"model-package-groups/{model}"


# Key schema of the promotion ledger table (the platform core creates it, promotion writes it).
LEDGER_PARTITION_KEY = "pk"
LEDGER_SORT_KEY = "sk"


def ledger_partition(model: str) -> str:
    """Partition key value of a model's ledger entries: one partition per model per environment
    (each environment has its own table). Written and read by mlplatform.promotion only."""
    return f"model#{model}"


def ledger_approval_partition(model: str) -> str:
    """Partition of a model's approvals and rejections: a chain of its own, which only the
    approver role may write (IAM dynamodb:LeadingKeys), so a promoter cannot record an approval."""
    return f"approval#{model}"


def ledger_sort(seq: int) -> str:
    """Sort key value of the `seq`-th entry of a model (1-based, zero-padded so that string order
    is append order). The promotion code writes each entry with attribute_not_exists: append-only."""
    return f"{seq:010d}"


# --- Feast -----------------------------------------------------------------------------
# Feast's own default table name template for DynamoDB (DynamoDBOnlineStoreConfig), written
# into every generated feature_store.yaml so the names cannot drift.
FEAST_TABLE_NAME_TEMPLATE = "{project}.{table_name}"

# Layout of an offline bucket. Retention expires the data prefixes only; the registry is never
# expired; Feast's and Athena's temporary objects expire after a few days.
OFFLINE_DATA_PREFIX = "data/"  # feature tables the team writes (Glue tables' LOCATION)
OFFLINE_SAGEMAKER_PREFIX = "sagemaker-feature-store/"  # SageMaker Feature Groups' offline store
FEAST_REGISTRY_KEY = "feast/registry.db"
FEAST_STAGING_PREFIX = "athena/staging/"  # Feast's s3_staging_location: entity uploads, unloads
ATHENA_RESULTS_PREFIX = "athena/results/"  # the workgroup's query results
OFFLINE_DATA_PREFIXES = (OFFLINE_DATA_PREFIX, OFFLINE_SAGEMAKER_PREFIX)
# Feast's Athena offline store creates and drops Glue tables with these name prefixes:
# `feast_entity_df_<hex>` for an uploaded entity dataframe, `_<hex>` for each unloaded result.
FEAST_TEMP_TABLE_PREFIXES = ("feast_entity_df_", "_")


# --- layout of a registry bucket ------------------------------------------------------
# Written by mlplatform.promotion (register, promote) and the sandbox; the platform core's
# bucket policy and lifecycle rules may refer to these prefixes.
REGISTRY_MODELS_PREFIX = "models/"
REGISTRY_LOCKS_PREFIX = "locks/"
# Where training jobs write their output. Promoted versions under models/ are written only by
# `register` and `promote` (which copy from here); the platform's workload roles are denied
# writes there by the registry's bucket policy.
REGISTRY_STAGING_PREFIX = "staging/"


# The IAM roles of a TrainingPipeline, by purpose: the SageMaker Pipeline's execution role, its
# training and evaluation jobs, its guard and registration steps, the EventBridge Scheduler
# schedule and the EventBridge rules that start it.
PIPELINE_ROLES = ("pipeline", "train", "register", "scheduler", "events")
# The pipeline parameter that says what started a run (recorded with the version it registers).
PIPELINE_TRIGGER_PARAMETER = "Trigger"
# The registration step's session as the promoter is named pipeline-<pipeline>: the ledger's `by`.
PIPELINE_SESSION_PREFIX = "pipeline-"


def pipeline_output_prefix(pipeline: str) -> str:
    """Where a TrainingPipeline's runs write the trained model and its evaluation."""
    return f"{REGISTRY_STAGING_PREFIX}pipelines/{pipeline}/"


def training_output_prefix(cluster: str) -> str:
    """Where the jobs of one TrainingCluster write artifacts, e.g. staging/train/."""
    return f"{REGISTRY_STAGING_PREFIX}{cluster}/"


# Prefix of the write-once ledger copy in the archive bucket.
LEDGER_ARCHIVE_PREFIX = "ledger/"


def ledger_archive_key(model: str, chain: str, seq: int) -> str:
    """The write-once copy of one ledger entry: ledger/<model>/<chain>/<seq>.json."""
    return f"{LEDGER_ARCHIVE_PREFIX}{model}/{chain}/{ledger_sort(seq)}.json"


def registry_version_prefix(model: str, version: str) -> str:
    return f"{REGISTRY_MODELS_PREFIX}{model}/{version}/"


def artifact_key(model: str, version: str, filename: str) -> str:
    """The artifact of a model version, e.g. models/fraud-xgb/7/model.tar.gz."""
    return f"{registry_version_prefix(model, version)}{filename}"


# A version's data-quality baseline: Model Monitor's suggest_baseline output (SageMaker Developer
# Guide, "Create a Baseline"), registered with the version and promoted with it.
BASELINE_STATISTICS = "statistics.json"
BASELINE_CONSTRAINTS = "constraints.json"
BASELINE_FILES = (BASELINE_STATISTICS, BASELINE_CONSTRAINTS)


def baseline_prefix(model: str, version: str) -> str:
    """Where a version's baseline files are, e.g. models/fraud-xgb/7/baseline/."""
    return f"{registry_version_prefix(model, version)}baseline/"


def manifest_key(model: str, version: str) -> str:
    """JSON manifest of a model version (SHA-256, size, metrics, image, git commit, who/when).
    A version exists in an environment when its manifest exists in that registry."""
    return f"{registry_version_prefix(model, version)}manifest.json"


def version_claim_key(model: str, version: str) -> str:
    """Created with If-None-Match by `register` to claim a version number before uploading."""
    return f"{registry_version_prefix(model, version)}.claim"


def lock_key(model: str) -> str:
    """Promotion lock of a model in one environment, created with If-None-Match, deleted on exit."""
    return f"{REGISTRY_LOCKS_PREFIX}{model}.json"


# Customer metadata property of a SageMaker model package holding the mlplatform version
# (SageMaker numbers packages in a group itself). Written by promotion, read by promotion.
MODEL_PACKAGE_VERSION_PROPERTY = "mlplatform-version"


# --- checks used by validation ---------------------------------------------------------
def s3_bucket_problem(name: str) -> str | None:
    if len(name) > S3_BUCKET_MAX:
        return f"S3 bucket name '{name}' is {len(name)} characters; the limit is {S3_BUCKET_MAX}"
    if not _S3_BUCKET.match(name) or ".." in name:
        return f"S3 bucket name '{name}' must be lowercase letters, digits, dots and hyphens"
    return None


def sagemaker_name_problem(name: str, what: str = "SageMaker name") -> str | None:
    if len(name) > SAGEMAKER_NAME_MAX:
        return f"{what} '{name}' is {len(name)} characters; the limit is {SAGEMAKER_NAME_MAX}"
    if not _SAGEMAKER.match(name):
        return f"{what} '{name}' must be letters, digits and hyphens, starting with a letter or digit"
    return None


def iam_role_problem(name: str) -> str | None:
    if len(name) > IAM_ROLE_MAX:
        return f"IAM role name '{name}' is {len(name)} characters; the limit is {IAM_ROLE_MAX}"
    if not _IAM_ROLE.match(name):
        return f"IAM role name '{name}' has characters IAM does not allow"
    return None


def dns_label_problem(name: str) -> str | None:
    if len(name) > DNS_LABEL_MAX:
        return f"Kubernetes name '{name}' is {len(name)} characters; the limit is {DNS_LABEL_MAX}"
    if not _DNS_LABEL.match(name):
        return (
            f"Kubernetes name '{name}' must be a DNS-1123 label: lowercase letters, digits "
            "and '-', starting and ending with a letter or digit"
        )
    return None


def rds_identifier_problem(name: str) -> str | None:
    if len(name) > RDS_IDENTIFIER_MAX:
        return f"RDS instance identifier '{name}' is {len(name)} characters; the limit is {RDS_IDENTIFIER_MAX}"
    if not re.fullmatch(r"[a-z](-?[a-z0-9])*", name):
        return f"RDS instance identifier '{name}' must start with a letter and have no '--'"
    return None


def eks_cluster_problem(name: str) -> str | None:
    if len(name) > EKS_CLUSTER_MAX:
        return f"EKS cluster name '{name}' is {len(name)} characters; the limit is {EKS_CLUSTER_MAX}"
    return None
