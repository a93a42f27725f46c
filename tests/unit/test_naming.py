"""Physical names and the AWS / Kubernetes naming limits validation checks them against."""

from __future__ import annotations

import pytest

from mlplatform import naming

NAMES = naming.Names("fraud", "prod")
ACCOUNT = naming.ACCOUNT_ID_PLACEHOLDER


def test_names_are_prefixed_with_platform_and_environment() -> None:
    assert NAMES.prefix == "fraud-prod"
    assert NAMES.registry_bucket(ACCOUNT) == "fraud-prod-model-registry-123456789012"
    assert NAMES.access_logs_bucket(ACCOUNT) == "fraud-prod-access-logs-123456789012"
    assert NAMES.offline_store_bucket("features", ACCOUNT) == "fraud-prod-features-offline-123456789012"
    # Feast's DynamoDB table name template "{project}.{table_name}" (DynamoDBOnlineStoreConfig).
    assert NAMES.feast_online_table("features", "card_activity") == "fraud_prod_features.card_activity"
    assert NAMES.athena_workgroup("features") == "fraud-prod-features"
    assert NAMES.feast_policy("features", "online-read") == "fraud-prod-features-feast-online-read"
    assert NAMES.ledger_table() == "fraud-prod-promotion-ledger"
    assert NAMES.endpoint("scorer") == "fraud-prod-scorer"
    assert NAMES.model_package_group("fraud-xgb") == "fraud-prod-fraud-xgb"
    assert NAMES.role("scorer", "execution") == "fraud-prod-scorer-execution"
    assert NAMES.eks_cluster("train") == "fraud-prod-train"
    assert NAMES.namespace("train") == "fraud-prod-train"
    assert NAMES.glue_database("features") == "fraud_prod_features"
    assert NAMES.sns_topic("monitoring") == "fraud-prod-monitoring-alerts"
    assert NAMES.alarm("scorer", "latency-p99") == "fraud-prod-scorer-latency-p99"
    assert NAMES.dashboard() == "fraud-prod-ml-platform"


def test_lookup_keys_are_under_the_platform_and_environment() -> None:
    assert NAMES.kms_alias() == "alias/mlplatform/fraud/prod"
    assert NAMES.ssm_prefix() == "/mlplatform/fraud/prod"
    assert NAMES.ssm_parameter(naming.SSM_REGISTRY_BUCKET) == "/mlplatform/fraud/prod/registry-bucket"
    assert NAMES.ssm_parameter(naming.ssm_endpoint_key("scorer")) == "/mlplatform/fraud/prod/endpoints/scorer"
    assert naming.ssm_model_package_group_key("fraud-xgb") == "model-package-groups/fraud-xgb"
    assert NAMES.log_group("scorer") == "/mlplatform/fraud/prod/scorer"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a" * 63, None),
        ("abc", None),
        ("my.bucket-1", None),
        ("a" * 64, f"S3 bucket name '{'a' * 64}' is 64 characters; the limit is 63"),
        ("ab", "S3 bucket name 'ab' must be lowercase letters, digits, dots and hyphens"),
        ("Fraud-prod", "S3 bucket name 'Fraud-prod' must be lowercase letters, digits, dots and hyphens"),
        ("fraud..prod", "S3 bucket name 'fraud..prod' must be lowercase letters, digits, dots and hyphens"),
        ("-fraud", "S3 bucket name '-fraud' must be lowercase letters, digits, dots and hyphens"),
    ],
)
def test_s3_bucket_names(name: str, problem: str | None) -> None:
    assert naming.s3_bucket_problem(name) == problem


def test_sagemaker_names() -> None:
    assert naming.sagemaker_name_problem("a" * 63) is None
    assert naming.sagemaker_name_problem("Fraud-Prod-1") is None
    assert naming.sagemaker_name_problem("a" * 64) == f"SageMaker name '{'a' * 64}' is 64 characters; the limit is 63"
    assert naming.sagemaker_name_problem("a_b", "SageMaker endpoint name") == (
        "SageMaker endpoint name 'a_b' must be letters, digits and hyphens, starting with a letter or digit"
    )
    assert naming.sagemaker_name_problem("-ab") is not None


def test_iam_role_names() -> None:
    assert naming.iam_role_problem("r" * 64) is None
    assert naming.iam_role_problem("role+=,.@-_1") is None
    assert naming.iam_role_problem("r" * 65) == f"IAM role name '{'r' * 65}' is 65 characters; the limit is 64"
    assert naming.iam_role_problem("my role") == "IAM role name 'my role' has characters IAM does not allow"


def test_dns_labels() -> None:
    assert naming.dns_label_problem("a" * 63) is None
    assert naming.dns_label_problem("fraud-prod-1") is None
    assert naming.dns_label_problem("a" * 64) == f"Kubernetes name '{'a' * 64}' is 64 characters; the limit is 63"
    for bad in ("Fraud", "fraud-", "-fraud", "fraud_prod", "fraud.prod"):
        assert naming.dns_label_problem(bad) == (
            f"Kubernetes name '{bad}' must be a DNS-1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )


def test_eks_cluster_names() -> None:
    assert naming.eks_cluster_problem("c" * 100) is None
    too_long = "c" * 101
    assert naming.eks_cluster_problem(too_long) == f"EKS cluster name '{too_long}' is 101 characters; the limit is 100"


def test_naming_imports_only_the_standard_library() -> None:
    """The promote path imports naming; it must stay light."""
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(naming.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported
    assert imported <= set(sys.stdlib_module_names)
