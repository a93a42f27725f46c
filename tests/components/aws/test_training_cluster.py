"""TrainingCluster: EKS cluster, node groups, IRSA, and the Kubernetes side."""

from __future__ import annotations

import json

import pytest

from mlplatform.components.aws.training_cluster import TrainingCluster, TrainingClusterArgs
from mlplatform.spec.training_cluster import NodePool, Quota
from mlplatform.spec.training_cluster import TrainingCluster as Spec
from tests.components.aws.helpers import ACCOUNT, KEY_ARN, REGION, TAGS, names, out
from tests.components.conftest import Resources, assert_tagged, run

POOLS = [
    NodePool(name="cpu", instance_type="m6i.2xlarge", min_nodes=1, max_nodes=4),
    NodePool(name="gpu", instance_type="g5.2xlarge", gpu=True, max_nodes=8, spot=True),
]


def _cluster(spec: Spec, env: str = "dev") -> None:
    TrainingCluster(
        "train",
        TrainingClusterArgs(
            spec=spec,
            names=names(env),
            tags=TAGS,
            account_id=ACCOUNT,
            region=REGION,
            kms_key_arn=KEY_ARN,
            subnet_ids=[out("subnet-a"), out("subnet-b")],
            node_security_group_id=out("sg-nodes"),
            protect=env == "prod",
        ),
    )


@pytest.fixture(scope="module")
def prod() -> Resources:
    spec = Spec(name="train", node_pools=POOLS, quota=Quota(gpus=16, cpu=128, memory_gb=512))
    return Resources(run(lambda: _cluster(spec, "prod"), stack="prod"))


@pytest.fixture(scope="module")
def opted_out() -> Resources:
    spec = Spec(
        name="train", node_pools=POOLS[:1], opt_out=["private_endpoint", "secrets_encryption", "control_plane_logging"]
    )
    return Resources(run(lambda: _cluster(spec)))


@pytest.fixture(scope="module")
def existing() -> Resources:
    return Resources(run(lambda: _cluster(Spec(name="train", existing_cluster="shared-eks", node_pools=POOLS[:1]))))


def test_children_parented_named_and_tagged(prod: Resources) -> None:
    component = prod.component("mlplatform:aws:TrainingCluster")
    children = [r for r in prod.all if r is not component]
    assert all(r.parent == component.urn and r.name.startswith("train-") for r in children)
    assert assert_tagged(children, TAGS) >= 8


def test_cluster_private_encrypted_logged_and_protected_in_prod(prod: Resources) -> None:
    cluster = prod.named("train-cluster")
    i = cluster.inputs
    assert i["name"] == "fraud-prod-train"
    assert i["vpcConfig"]["endpointPublicAccess"] is False and i["vpcConfig"]["endpointPrivateAccess"] is True
    assert i["encryptionConfig"] == {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}
    assert i["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert cluster.protect is True
    logs = prod.named("train-control-plane-logs").inputs
    assert logs["name"] == "/aws/eks/fraud-prod-train/cluster" and logs["kmsKeyId"] == KEY_ARN


def test_gpu_node_group_ami_taint_labels_and_capacity(prod: Resources) -> None:
    gpu = prod.named("train-gpu").inputs
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu["capacityType"] == "SPOT"
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gpu["labels"]["nvidia.com/gpu.present"] == "true"
    assert gpu["scalingConfig"] == {"minSize": 0, "maxSize": 8, "desiredSize": 0}
    cpu = prod.named("train-cpu").inputs
    assert cpu["amiType"] == "AL2023_x86_64_STANDARD" and cpu["capacityType"] == "ON_DEMAND"
    assert "taints" not in cpu
    template = prod.named("train-gpu-lt").inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"


def test_irsa_job_role_trusts_only_the_job_service_account(prod: Resources) -> None:
    oidc = prod.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]
    trust = prod.policy(prod.named("train-job-role"), "assumeRolePolicy")
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:fraud-prod-train:train-jobs" in condition.values()
    assert trust["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"


def test_kubernetes_side_through_the_cluster_provider(prod: Resources) -> None:
    provider = prod.one("pulumi:providers:kubernetes")
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    assert kubeconfig["users"][0]["user"]["exec"]["args"][:2] == ["eks", "get-token"]
    k8s = [r for r in prod.all if r.type.startswith("kubernetes:")]
    assert {r.type for r in k8s} == {
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ResourceQuota",
        "kubernetes:core/v1:LimitRange",
        "kubernetes:scheduling.k8s.io/v1:PriorityClass",
        "kubernetes:core/v1:ServiceAccount",
    }
    assert all(r.provider and r.provider.startswith(provider.urn) for r in k8s)
    hard = prod.one("kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]
    assert hard["requests.nvidia.com/gpu"] == "16" and hard["requests.memory"] == "512Gi"
    sa = prod.one("kubernetes:core/v1:ServiceAccount").inputs["metadata"]
    assert sa["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/fraud-prod-train-jobs")


def test_node_role_uses_only_the_eks_worker_policies(prod: Resources) -> None:
    arns = {
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert arns == {
        "AmazonEKSClusterPolicy",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryPullOnly",
    }
    assert not prod.of_type("aws:iam/rolePolicy:RolePolicy")  # the job role's grants come from the platform


def test_opt_outs_are_honoured_and_reported(opted_out: Resources) -> None:
    i = opted_out.named("train-cluster").inputs
    assert i["vpcConfig"]["endpointPublicAccess"] is True
    assert "encryptionConfig" not in i
    assert i.get("enabledClusterLogTypes") in (None, [])
    assert not [r for r in opted_out.all if r.name == "train-control-plane-logs"]
    assert opted_out.named("train-cluster").protect is False
    warned = " ".join(opted_out.captured.warnings)
    assert all(o in warned for o in ("private_endpoint", "secrets_encryption", "control_plane_logging"))


def test_existing_cluster_gets_node_groups_only(existing: Resources) -> None:
    assert not existing.of_type("aws:eks/cluster:Cluster")
    group = existing.named("train-cpu").inputs
    assert group["clusterName"] == "shared-eks"
    assert existing.one("pulumi:providers:kubernetes")
