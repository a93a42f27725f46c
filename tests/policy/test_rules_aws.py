"""Each AWS rule: passes on the secure configuration, fails with its exact message otherwise."""

from __future__ import annotations

import json

import pytest

from mlplatform.policy import RULES, Context
from tests.policy.helpers import res

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"

TLS_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)


def secure_bucket() -> list:
    return [
        res(BUCKET, "data", {"bucket": "data"}),
        res(
            SSE,
            "data-sse",
            {
                "bucket": "data",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "k"}}],
            },
        ),
        res(VERSIONING, "data-versioning", {"bucket": "data", "versioningConfiguration": {"status": "Enabled"}}),
        res(
            PAB,
            "data-pab",
            {
                "bucket": "data",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        res(LOGGING, "data-logging", {"bucket": "data", "targetBucket": "logs", "targetPrefix": "data/"}),
        res(POLICY, "data-policy", {"bucket": "data", "policy": TLS_ONLY}),
    ]


def run(rule_id: str, resources: list, target: int = 0, env: str | None = "prod") -> list[str]:
    return RULES[rule_id](resources[target], Context(env=env, resources=resources))


@pytest.mark.parametrize("rule_id", ["MLP-S3-001", "MLP-S3-002", "MLP-S3-003", "MLP-S3-004", "MLP-S3-005"])
def test_s3_rules_pass_on_a_bucket_with_its_companions(rule_id: str) -> None:
    assert run(rule_id, secure_bucket()) == []


@pytest.mark.parametrize(
    ("rule_id", "drop", "message"),
    [
        (
            "MLP-S3-001",
            SSE,
            "bucket 'data' is not encrypted with a KMS key: add a BucketServerSideEncryptionConfiguration "
            "with sse_algorithm 'aws:kms' and the platform key",
        ),
        ("MLP-S3-002", VERSIONING, "bucket 'data' has no versioning: add a BucketVersioning with status 'Enabled'"),
        (
            "MLP-S3-003",
            PAB,
            "bucket 'data' has no public access block: add a BucketPublicAccessBlock with blockPublicAcls, "
            "blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets all true",
        ),
        (
            "MLP-S3-004",
            LOGGING,
            "bucket 'data' has no server access logging: add a BucketLogging that targets the platform's "
            "access-logs bucket",
        ),
        (
            "MLP-S3-005",
            POLICY,
            "bucket 'data' allows requests without TLS: add a BucketPolicy statement that denies s3:* when "
            "aws:SecureTransport is false",
        ),
    ],
)
def test_s3_rules_fail_without_the_companion(rule_id: str, drop: str, message: str) -> None:
    resources = [r for r in secure_bucket() if r.type != drop]
    assert run(rule_id, resources) == [message]


def test_s3_companion_of_another_bucket_does_not_count() -> None:
    resources = [res(BUCKET, "other", {"bucket": "other"}), *secure_bucket()[1:]]
    assert run("MLP-S3-002", resources) == [
        "bucket 'other' has no versioning: add a BucketVersioning with status 'Enabled'"
    ]


def test_s3_companion_matched_by_dependency_when_bucket_is_unknown() -> None:
    bucket = res(BUCKET, "data", {})
    versioning = res(VERSIONING, "v", {"versioningConfiguration": {"status": "Enabled"}}, deps=[bucket.urn])
    assert run("MLP-S3-002", [bucket, versioning]) == []


def test_s3_aes256_is_not_kms() -> None:
    resources = secure_bucket()
    resources[1].inputs["rules"] = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    assert run("MLP-S3-001", resources)[0].startswith("bucket 'data' is not encrypted with a KMS key")


def test_s3_public_access_block_names_the_settings_left_off() -> None:
    resources = secure_bucket()
    resources[3].inputs["ignorePublicAcls"] = False
    assert run("MLP-S3-003", resources) == [
        "bucket 'data' public access block leaves ignorePublicAcls off: set them true"
    ]


def test_s3_versioning_suspended_fails() -> None:
    resources = secure_bucket()
    resources[2].inputs["versioningConfiguration"] = {"status": "Suspended"}
    assert run("MLP-S3-002", resources) != []


def test_s3_access_log_bucket_needs_no_logging_of_its_own() -> None:
    resources = [res(BUCKET, "logs", {"bucket": "logs"}), *secure_bucket()]
    assert run("MLP-S3-004", resources) == []


def test_s3_policy_without_tls_deny_fails() -> None:
    resources = secure_bucket()
    resources[5].inputs["policy"] = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]})
    assert run("MLP-S3-005", resources)[0].startswith("bucket 'data' allows requests without TLS")


TABLE = "aws:dynamodb/table:Table"


def test_dynamodb_pitr() -> None:
    ok = res(TABLE, "t", {"name": "online", "pointInTimeRecovery": {"enabled": True}})
    bad = res(TABLE, "t", {"name": "online"})
    assert RULES["MLP-DDB-001"](ok) == []
    assert RULES["MLP-DDB-001"](bad) == [
        "table 'online' has no point-in-time recovery: set point_in_time_recovery enabled=True"
    ]


def test_dynamodb_kms() -> None:
    ok = res(TABLE, "t", {"name": "online", "serverSideEncryption": {"enabled": True, "kmsKeyArn": "arn:k"}})
    aws_owned = res(TABLE, "t", {"name": "online", "serverSideEncryption": {"enabled": True}})
    assert RULES["MLP-DDB-002"](ok) == []
    assert RULES["MLP-DDB-002"](aws_owned) == [
        "table 'online' is not encrypted with a customer managed key: set server_side_encryption "
        "enabled=True with kms_key_arn of the platform key"
    ]


def test_sns_kms() -> None:
    topic = "aws:sns/topic:Topic"
    assert RULES["MLP-SNS-001"](res(topic, "alerts", {"name": "alerts", "kmsMasterKeyId": "arn:k"})) == []
    assert RULES["MLP-SNS-001"](res(topic, "alerts", {"name": "alerts"})) == [
        "topic 'alerts' is not encrypted: set kms_master_key_id to the platform key"
    ]


LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def test_log_retention() -> None:
    rule = RULES["MLP-LOG-001"]
    assert rule.severity == "warning"
    assert rule(res(LOG_GROUP, "g", {"name": "/x", "retentionInDays": 365})) == []
    assert rule(res(LOG_GROUP, "g", {"name": "/x", "retentionInDays": 30})) == [
        "log group '/x' logs are kept 30 days: set retention_in_days to at least 365 "
        "(MonitoringStack log_retention_days)"
    ]
    assert rule(res(LOG_GROUP, "g", {"name": "/x"})) == [
        "log group '/x' logs never expire: set retention_in_days to at least 365 (MonitoringStack log_retention_days)"
    ]


def test_log_kms() -> None:
    assert RULES["MLP-LOG-002"](res(LOG_GROUP, "g", {"name": "/x", "kmsKeyId": "arn:k"})) == []
    assert RULES["MLP-LOG-002"](res(LOG_GROUP, "g", {"name": "/x"})) == [
        "log group '/x' is not encrypted with a KMS key: set kms_key_id to the platform key"
    ]


CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"


def endpoint_config(**overrides: object) -> dict:
    inputs: dict = {
        "name": "fraud-prod-scorer",
        "kmsKeyArn": "arn:k",
        "productionVariants": [
            {"variantName": "primary", "modelName": "m", "instanceType": "ml.m5.xlarge", "initialInstanceCount": 2}
        ],
        "dataCaptureConfig": {"enableCapture": True, "initialSamplingPercentage": 20, "kmsKeyId": "arn:k"},
    }
    inputs.update(overrides)
    return inputs


def test_sagemaker_endpoint_config_kms() -> None:
    rule = RULES["MLP-SM-001"]
    assert rule(res(CONFIG, "c", endpoint_config())) == []
    assert rule(res(CONFIG, "c", endpoint_config(kmsKeyArn=None))) == [
        "endpoint configuration 'fraud-prod-scorer' does not encrypt instance storage: set kms_key_arn to the "
        "platform key (ModelEndpoint opt_out 'kms_encryption' turns this off)"
    ]
    serverless = endpoint_config(kmsKeyArn=None, productionVariants=[{"variantName": "p", "serverlessConfig": {}}])
    serverless["productionVariants"][0]["serverlessConfig"] = {"memorySizeInMb": 2048, "maxConcurrency": 5}
    assert rule(res(CONFIG, "c", serverless)) == []


# SageMaker API Reference, CreateEndpointConfig KmsKeyId: local NVMe instance storage is encrypted by
# a hardware module, and a key for such an instance type fails the call; the rule accepts its absence
# there and nowhere else.
def test_sagemaker_endpoint_config_kms_not_required_on_local_nvme_storage() -> None:
    rule = RULES["MLP-SM-001"]
    variant = {"variantName": "primary", "modelName": "m", "initialInstanceCount": 2}
    nvme = endpoint_config(kmsKeyArn=None, productionVariants=[variant | {"instanceType": "ml.g5.2xlarge"}])
    assert rule(res(CONFIG, "c", nvme)) == []
    mixed = endpoint_config(
        kmsKeyArn=None,
        productionVariants=[variant | {"instanceType": "ml.g5.2xlarge"}, variant | {"instanceType": "ml.m5.xlarge"}],
    )
    assert len(rule(res(CONFIG, "c", mixed))) == 1


def test_sagemaker_model_network_isolation() -> None:
    rule = RULES["MLP-SM-002"]
    assert rule(res(MODEL, "m", {"name": "fraud-xgb-5", "enableNetworkIsolation": True})) == []
    assert rule(res(MODEL, "m", {"name": "fraud-xgb-5"})) == [
        "model 'fraud-xgb-5' container can reach the network: set enable_network_isolation=True "
        "(ModelEndpoint opt_out 'network_isolation' turns this off)"
    ]


def test_sagemaker_model_in_vpc() -> None:
    rule = RULES["MLP-SM-003"]
    vpc = {"subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]}
    assert rule(res(MODEL, "m", {"name": "fraud-xgb-5", "vpcConfig": vpc})) == []
    assert rule(res(MODEL, "m", {"name": "fraud-xgb-5"})) == [
        "model 'fraud-xgb-5' does not run in a VPC: set vpc_config with the platform's private subnets and a "
        "security group (ModelEndpoint opt_out 'vpc' turns this off)"
    ]


def test_sagemaker_single_instance_fails_only_in_production() -> None:
    rule = RULES["MLP-SM-004"]
    single = endpoint_config()
    single["productionVariants"][0]["initialInstanceCount"] = 1
    assert rule(res(CONFIG, "c", endpoint_config()), Context(env="prod")) == []
    assert rule(res(CONFIG, "c", single), Context(env="dev")) == []
    assert rule(res(CONFIG, "c", single), Context(env="prod")) == [
        "endpoint configuration 'fraud-prod-scorer' variant 'primary' starts with 1 instance(s) in production, "
        "a single point of failure: set ModelEndpoint min_instances to at least 2"
    ]


def test_sagemaker_single_instance_environment_from_tags() -> None:
    single = endpoint_config(tags={"mlplatform:environment": "prod"})
    single["productionVariants"][0]["initialInstanceCount"] = 1
    assert len(RULES["MLP-SM-004"](res(CONFIG, "c", single), Context(env=None))) == 1


def test_sagemaker_data_capture_encrypted() -> None:
    rule = RULES["MLP-SM-005"]
    assert rule(res(CONFIG, "c", endpoint_config())) == []
    assert rule(res(CONFIG, "c", endpoint_config(dataCaptureConfig=None))) == []
    unencrypted = endpoint_config(dataCaptureConfig={"enableCapture": True, "initialSamplingPercentage": 20})
    assert rule(res(CONFIG, "c", unencrypted)) == [
        "endpoint configuration 'fraud-prod-scorer' captures requests unencrypted: set data_capture_config "
        "kms_key_id to the platform key"
    ]


CLUSTER = "aws:eks/cluster:Cluster"


def cluster(**overrides: object) -> dict:
    inputs: dict = {
        "name": "fraud-prod-train",
        "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False, "subnetIds": ["s"]},
        "encryptionConfig": {"provider": {"keyArn": "arn:k"}, "resources": ["secrets"]},
        "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    }
    inputs.update(overrides)
    return inputs


def test_eks_private_endpoint() -> None:
    rule = RULES["MLP-EKS-001"]
    assert rule(res(CLUSTER, "c", cluster())) == []
    assert rule(res(CLUSTER, "c", cluster(vpcConfig={"subnetIds": ["s"]}))) == [
        "cluster 'fraud-prod-train' API endpoint is public: set vpc_config endpoint_public_access=False and "
        "endpoint_private_access=True (TrainingCluster opt_out 'private_endpoint' turns this off)"
    ]


def test_eks_secrets_encryption() -> None:
    rule = RULES["MLP-EKS-002"]
    assert rule(res(CLUSTER, "c", cluster())) == []
    assert rule(res(CLUSTER, "c", cluster(encryptionConfig=None))) == [
        "cluster 'fraud-prod-train' does not encrypt Kubernetes secrets: set encryption_config with "
        "resources=['secrets'] and the platform key (TrainingCluster opt_out 'secrets_encryption' turns this off)"
    ]


def test_eks_control_plane_logging() -> None:
    rule = RULES["MLP-EKS-003"]
    assert rule(res(CLUSTER, "c", cluster())) == []
    assert rule(res(CLUSTER, "c", cluster(enabledClusterLogTypes=["api", "audit"]))) == [
        "cluster 'fraud-prod-train' does not log authenticator, controllerManager, scheduler: set "
        "enabled_cluster_log_types to api, audit, authenticator, controllerManager, scheduler "
        "(TrainingCluster opt_out 'control_plane_logging' turns this off)"
    ]


def iam_policy(action: object, resource: object) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    )


def test_iam_wildcard_action() -> None:
    rule = RULES["MLP-IAM-001"]
    policy = "aws:iam/policy:Policy"
    assert rule(res(policy, "p", {"name": "reader", "policy": iam_policy(["s3:GetObject"], "*")})) == []
    assert rule(res(policy, "p", {"name": "reader", "policy": iam_policy("*", "arn:aws:s3:::b/*")})) == [
        "policy of 'reader' allows every action ('*'): list the actions it needs"
    ]


def test_iam_admin() -> None:
    rule = RULES["MLP-IAM-002"]
    role_policy = "aws:iam/rolePolicy:RolePolicy"
    assert rule(res(role_policy, "p", {"name": "x", "policy": iam_policy("*", "arn:aws:s3:::b")})) == []
    assert rule(res(role_policy, "p", {"name": "x", "policy": iam_policy(["*"], ["*"])})) == [
        "policy of 'x' allows '*' on '*' (full administrator): scope actions and resources"
    ]


def test_iam_role_inline_policies_checked_but_not_trust_policy() -> None:
    role = "aws:iam/role:Role"
    trust = json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"Service": "x"}}]})
    ok = res(role, "r", {"name": "exec", "assumeRolePolicy": trust})
    assert RULES["MLP-IAM-001"](ok) == []
    bad = res(role, "r", {"name": "exec", "inlinePolicies": [{"name": "all", "policy": iam_policy("*", "*")}]})
    assert RULES["MLP-IAM-002"](bad) == [
        "inline policy 'all' of 'exec' allows '*' on '*' (full administrator): scope actions and resources"
    ]


def test_every_rule_is_documented() -> None:
    for rule in RULES.values():
        assert rule.id.startswith("MLP-") and rule.title and rule.severity in ("error", "warning")


def test_numbers_arrive_as_floats_from_the_engine() -> None:
    two = endpoint_config()
    two["productionVariants"][0]["initialInstanceCount"] = 2.0
    assert RULES["MLP-SM-004"](res(CONFIG, "c", two), Context(env="prod")) == []
    group = res(LOG_GROUP, "g", {"name": "/x", "retentionInDays": 30.0})
    assert RULES["MLP-LOG-001"](group)[0].startswith("log group '/x' logs are kept 30 days")


def test_access_log_bucket_may_use_sse_s3() -> None:
    logs = res(BUCKET, "logs", {"bucket": "logs"})
    sse = res(
        SSE,
        "logs-sse",
        {"bucket": "logs", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
    )
    assert run("MLP-S3-001", [logs, sse, *secure_bucket()]) == []
    assert run("MLP-S3-001", [logs, sse]) != []  # not a log target: AES256 is not enough


def test_eks_public_endpoint_admits_declared_cidrs_only() -> None:
    # EKS API Reference, VpcConfigRequest.publicAccessCidrs: a public endpoint without it admits 0.0.0.0/0.
    rule = RULES["MLP-EKS-004"]
    assert rule(res(CLUSTER, "c", cluster())) == []
    public = {"endpointPrivateAccess": True, "endpointPublicAccess": True, "subnetIds": ["s"]}
    assert rule(res(CLUSTER, "c", cluster(vpcConfig={**public, "publicAccessCidrs": ["203.0.113.0/24"]}))) == []
    message = (
        "cluster 'fraud-prod-train' API endpoint is public to every address: set vpc_config public_access_cidrs "
        "to the deploy runner's addresses (TrainingCluster api_access.public_cidrs)"
    )
    assert rule(res(CLUSTER, "c", cluster(vpcConfig=public))) == [message]
    assert rule(res(CLUSTER, "c", cluster(vpcConfig={**public, "publicAccessCidrs": ["0.0.0.0/0"]}))) == [message]
    assert rule(res(CLUSTER, "c", cluster(vpcConfig={"subnetIds": ["s"]}))) == [message]
