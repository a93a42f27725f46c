"""Every pod that reads the registry has an IAM role of its own, scoped to its model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlplatform.plan.engine import Captured
from mlplatform.spec.cluster import PodIdentity
from mlplatform.spec.model_endpoint import ModelEndpoint
from tests.components.k8s.conftest import STACKS, example
from tests.components.k8s.helpers import ACCOUNT, ISSUER, KEY_ARN, by_name, cluster, platform, run_k8s

PLAIN = ModelEndpoint(name="ranker", model="ranker-model", target="kubernetes")
KSERVE = ModelEndpoint(name="ranker", model="ranker-model", target="kubernetes", kserve=True)
BUCKET = f"arn:aws:s3:::shop-dev-model-registry-{ACCOUNT}"


def policy(captured: Captured, name: str, key: str) -> dict[str, Any]:
    value = by_name(captured, name).inputs[key]
    return json.loads(value) if isinstance(value, str) else value


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        s.get("Sid", s["Action"] if isinstance(s["Action"], str) else s["Action"][0]): s for s in document["Statement"]
    }


def test_irsa_trust_is_the_clusters_oidc_provider_for_this_service_account_only() -> None:
    # EKS User Guide, "Assign IAM roles to Kubernetes service accounts": trust the OIDC provider
    # with `sub` = system:serviceaccount:<namespace>:<name> and `aud` = sts.amazonaws.com.
    captured, _ = run_k8s(platform(PLAIN))
    trust = policy(captured, "ranker-model-reader", "assumeRolePolicy")
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{ISSUER}:sub": "system:serviceaccount:shop-dev:shop-dev-ranker",
                    f"{ISSUER}:aud": "sts.amazonaws.com",
                }
            },
        }
    ]
    role = by_name(captured, "ranker-model-reader")
    assert role.inputs["name"] == "shop-dev-ranker-model-reader"
    sa = by_name(captured, "ranker-sa").inputs["metadata"]
    assert sa["name"] == "shop-dev-ranker"  # the `sub` above
    assert (
        sa["annotations"]["eks.amazonaws.com/role-arn"] == f"arn:aws:iam::{ACCOUNT}:role/shop-dev-ranker-model-reader"
    )
    assert sa["annotations"]["eks.amazonaws.com/sts-regional-endpoints"] == "true"
    pod = by_name(captured, "ranker-deployment").inputs["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == sa["name"]


def test_the_role_reads_only_its_models_prefix_and_decrypts_only_through_s3() -> None:
    # S3 User Guide, "Using SSE-KMS" / "S3 Bucket Keys": GetObject of an SSE-KMS object needs
    # kms:Decrypt; with a Bucket Key the encryption context is the bucket ARN. aws s3 cp needs no
    # listing (HeadObject is authorized by s3:GetObject).
    captured, _ = run_k8s(platform(PLAIN))
    found = statements(policy(captured, "ranker-model-read", "policy"))
    assert set(found) == {"ReadModelVersions", "DecryptThroughS3"}
    assert found["ReadModelVersions"]["Action"] == ["s3:GetObject"]
    assert found["ReadModelVersions"]["Resource"] == f"{BUCKET}/models/ranker-model/*"
    assert found["DecryptThroughS3"] == {
        "Sid": "DecryptThroughS3",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": KEY_ARN,
        "Condition": {
            "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": BUCKET}
        },
    }


def test_kserves_storage_initializer_may_find_the_artifact_under_its_prefix() -> None:
    # kserve_storage.py _download_s3: head_bucket, then bucket.objects.filter(Prefix=<key>), both
    # authorized by s3:ListBucket; HeadBucket carries no s3:prefix, hence ...IfExists.
    captured, _ = run_k8s(platform(KSERVE))
    found = statements(policy(captured, "ranker-model-read", "policy"))
    assert found["FindModelVersions"] == {
        "Sid": "FindModelVersions",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": BUCKET,
        "Condition": {"StringLikeIfExists": {"s3:prefix": ["models/ranker-model/*"]}},
    }
    sa = by_name(captured, "ranker-sa").inputs["metadata"]["annotations"]
    # KServe's storage initializer takes its S3 region from the IRSA account's annotations.
    assert sa["serving.kserve.io/s3-region"] == "us-east-1"


def test_eks_pod_identity_trust_association_and_agent_egress() -> None:
    # EKS User Guide, "Create an IAM role for EKS Pod Identity": principal pods.eks.amazonaws.com,
    # actions sts:AssumeRole and sts:TagSession; a PodIdentityAssociation names the ServiceAccount.
    p = platform(PLAIN, kubernetes=cluster(workload_identity=PodIdentity(cluster_name="shop-dev")))
    captured, _ = run_k8s(p)
    trust = policy(captured, "ranker-model-reader", "assumeRolePolicy")
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnEquals": {"aws:SourceArn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/shop-dev"},
            },
        }
    ]
    association = by_name(captured, "ranker-pod-identity")
    assert association.type == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
    assert {k: association.inputs[k] for k in ("clusterName", "namespace", "serviceAccount")} == {
        "clusterName": "shop-dev",
        "namespace": "shop-dev",
        "serviceAccount": "shop-dev-ranker",
    }
    assert association.inputs["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/shop-dev-ranker-model-reader"
    assert "annotations" not in by_name(captured, "ranker-sa").inputs["metadata"]
    deployment = by_name(captured, "ranker-deployment")
    assert association.urn in deployment.dependencies  # no pod before its credentials exist
    egress = by_name(captured, "ranker-netpol").inputs["spec"]["egress"]
    # The agent answers on the node's link-local 169.254.170.23:80 (EKS Pod Identity Agent docs).
    assert {"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}, {"ipBlock": {"cidr": "fd00:ec2::23/128"}}],
            "ports": [{"protocol": "TCP", "port": 80}]} in egress  # fmt: skip


def test_an_eks_cluster_of_the_blueprint_gives_its_oidc_provider() -> None:
    from mlplatform.spec.platform import KubernetesCluster
    from mlplatform.spec.training_cluster import TrainingCluster

    eks = TrainingCluster(name="gpu", target="eks")
    p = platform(eks, PLAIN, kubernetes=KubernetesCluster(training_cluster="gpu"))
    captured, _ = run_k8s(p, config={}, eks_provider="gpu")
    trust = policy(captured, "ranker-model-reader", "assumeRolePolicy")
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"}
    assert statement["Condition"]["StringEquals"][f"{ISSUER}:sub"] == "system:serviceaccount:shop-dev:shop-dev-ranker"


@pytest.mark.parametrize("stack", STACKS)
def test_every_pod_of_the_examples_that_reads_the_registry_has_a_role_scoped_to_its_model(
    programs: dict[str, Captured], stack: str
) -> None:
    # EKS User Guide: "IAM roles for service accounts" (trust on the cluster's OIDC provider, sub =
    # the ServiceAccount) and "EKS Pod Identity" (a PodIdentityAssociation binds the role to the
    # ServiceAccount); the pod runs as that ServiceAccount, the role reads only its model's prefix.
    ex, captured = example(stack), programs[stack]
    identity = ex.spec.kubernetes.workload_identity
    registry = f"arn:aws:s3:::{ex.prefix}-model-registry-{ACCOUNT}"
    for ep in ex.endpoints:
        sa = by_name(captured, f"{ep.name}-sa").inputs["metadata"]
        role = f"arn:aws:iam::{ACCOUNT}:role/{ex.prefix}-{ep.name}-model-reader"
        if ep.kserve:
            pod = by_name(captured, f"{ep.name}-isvc").inputs["spec"]["predictor"]
        else:
            pod = by_name(captured, f"{ep.name}-deployment").inputs["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == sa["name"] == f"{ex.prefix}-{ep.name}", ep.name
        trust = policy(captured, f"{ep.name}-model-reader", "assumeRolePolicy")["Statement"][0]
        if isinstance(identity, PodIdentity):
            association = by_name(captured, f"{ep.name}-pod-identity").inputs
            assert (association["clusterName"], association["namespace"], association["serviceAccount"]) == (
                identity.cluster_name,
                sa["namespace"],
                sa["name"],
            )
            assert association["roleArn"] == role
            assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
            assert trust["Condition"]["ArnEquals"]["aws:SourceArn"].endswith(f":cluster/{identity.cluster_name}")
        else:
            assert sa["annotations"]["eks.amazonaws.com/role-arn"] == role
            (sub,) = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
            assert sub == f"system:serviceaccount:{sa['namespace']}:{sa['name']}"
        found = statements(policy(captured, f"{ep.name}-model-read", "policy"))
        assert sorted(found) == sorted(
            ["ReadModelVersions", "DecryptThroughS3", *(["FindModelVersions"] if ep.kserve else [])]
        )
        assert found["ReadModelVersions"]["Resource"] == f"{registry}/models/{ep.model}/*"
        assert found["DecryptThroughS3"]["Condition"]["StringEquals"] == {
            "kms:ViaService": f"s3.{ex.spec.region}.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": registry,
        }
        if ep.kserve:
            assert found["FindModelVersions"]["Condition"] == {
                "StringLikeIfExists": {"s3:prefix": [f"models/{ep.model}/*"]}
            }
