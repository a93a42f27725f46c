"""TrainingCluster: EKS cluster, node groups, IRSA, and the Kubernetes side."""

from __future__ import annotations

import json

import pytest

from mlplatform.components.aws.training_cluster import TrainingCluster, TrainingClusterArgs
from mlplatform.plan.model import PlannedResource
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


def ancestors(res: Resources, r: PlannedResource) -> list[str]:
    out, parent = [], res.parent_of(r)
    while parent is not None:
        out.append(parent.type)
        parent = res.parent_of(parent)
    return out


def test_children_parented_named_and_tagged(prod: Resources) -> None:
    component = prod.component("mlplatform:aws:TrainingCluster")
    children = [r for r in prod.all if r is not component]
    assert all("mlplatform:aws:TrainingCluster" in ancestors(prod, r) for r in children)
    assert all(r.name.startswith("train-") for r in children)
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


def test_fixed_node_groups_system_and_always_on_nodes(prod: Resources) -> None:
    # Karpenter must not run on nodes it manages (Karpenter docs): a tainted system group hosts it.
    system = prod.named("train-system").inputs
    assert system["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert system["scalingConfig"] == {"minSize": 2, "maxSize": 2, "desiredSize": 2}
    assert system["labels"]["mlplatform.io/node-pool"] == "system"
    cpu = prod.named("train-cpu").inputs  # min_nodes=1: one always-on node; Karpenter adds the rest
    assert cpu["amiType"] == "AL2023_x86_64_STANDARD" and cpu["capacityType"] == "ON_DEMAND"
    assert cpu["scalingConfig"] == {"minSize": 1, "maxSize": 1, "desiredSize": 1}
    assert "taints" not in cpu
    assert not [r for r in prod.all if r.name == "train-gpu"]  # min_nodes=0: Karpenter only
    template = prod.named("train-cpu-lt").inputs
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
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor",
        "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue",
        "kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue",
        "kubernetes:kueue.x-k8s.io/v1beta2:WorkloadPriorityClass",
        "kubernetes:trainer.kubeflow.org/v1alpha1:TrainingRuntime",
        "kubernetes:karpenter.sh/v1:NodePool",
        "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
    }
    assert all(r.provider and r.provider.startswith(provider.urn) for r in k8s)
    hard = prod.named("train-quota").inputs["spec"]["hard"]
    assert hard["requests.nvidia.com/gpu"] == "16" and hard["requests.memory"] == "512Gi"
    sa = prod.named("train-jobs-sa").inputs["metadata"]
    assert sa["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/fraud-prod-train-jobs")


def test_limit_range_admits_a_container_that_sets_only_larger_requests(prod: Resources) -> None:
    # LimitRange (Kubernetes docs, "Limit Ranges"): a default limit below a container's request
    # makes the API server reject the pod; none is set, and the quota counts requests only.
    item = prod.named("train-limits").inputs["spec"]["limits"][0]
    assert "default" not in item and item["defaultRequest"] == {"cpu": "500m", "memory": "1Gi"}
    hard = prod.named("train-quota").inputs["spec"]["hard"]
    assert not [k for k in hard if k.startswith("limits.")]


def test_training_priority_never_preempts(prod: Resources) -> None:
    # PriorityClass preemptionPolicy Never (Kubernetes docs, "Non-preempting PriorityClass"):
    # training pods queue ahead of lower priorities but never evict a running (serving) pod.
    priority = prod.one("kubernetes:scheduling.k8s.io/v1:PriorityClass").inputs
    assert (priority["preemptionPolicy"], priority["globalDefault"]) == ("Never", False)


def test_node_roles_use_only_the_documented_policies(prod: Resources) -> None:
    # EKS node IAM role (EKS user guide) and Karpenter's getting-started template: worker, CNI and
    # ECR pull policies; the EBS CSI driver role: AmazonEBSCSIDriverPolicy (EBS CSI driver docs).
    by_role: dict[str, set[str]] = {}
    for r in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        role = r.inputs["role"]
        by_role.setdefault(role, set()).add(r.inputs["policyArn"].split(":policy/", 1)[1])
    nodes = {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"}
    assert by_role == {
        "fraud-prod-train-cluster": {"AmazonEKSClusterPolicy"},
        "fraud-prod-train-nodes": nodes,
        "fraud-prod-train-karpenter-nodes": nodes,
        "fraud-prod-train-ebs-csi": {"service-role/AmazonEBSCSIDriverPolicy"},
        "fraud-prod-train-insights": {"CloudWatchAgentServerPolicy"},
    }
    # The only inline policy is Karpenter's controller policy (test_cluster_equipment checks it).
    assert [r.name for r in prod.of_type("aws:iam/rolePolicy:RolePolicy")] == ["train-karpenter-controller-policy"]


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


# CloudWatch User Guide, "Install the CloudWatch agent with the Amazon CloudWatch Observability EKS
# add-on": the agent's service account (amazon-cloudwatch/cloudwatch-agent) gets
# CloudWatchAgentServerPolicy through IRSA; Container Insights writes /aws/containerinsights/<cluster>/*
# log groups, created here first with the platform key and retention.
def test_container_insights_addon_with_its_irsa_role_and_log_groups(prod: Resources) -> None:
    addon = prod.named("train-insights")
    assert addon.inputs["addonName"] == "amazon-cloudwatch-observability"
    assert addon.inputs["clusterName"] == "fraud-prod-train"
    role = prod.named("train-insights-role")
    trust = prod.policy(role, "assumeRolePolicy")["Statement"][0]
    assert "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent" in trust["Condition"]["StringEquals"].values()
    assert addon.inputs["serviceAccountRoleArn"].endswith(":role/fraud-prod-train-insights")
    groups = {
        prod.named(f"train-insights-{k}").inputs["name"] for k in ("application", "dataplane", "host", "performance")
    }
    assert groups == {
        f"/aws/containerinsights/fraud-prod-train/{k}" for k in ("application", "dataplane", "host", "performance")
    }
    for kind in ("application", "performance"):
        group = prod.named(f"train-insights-{kind}")
        assert group.inputs["kmsKeyId"] == KEY_ARN and group.urn in addon.dependencies
    assert {g.urn for g in prod.of_type("aws:eks/nodeGroup:NodeGroup")} <= set(addon.dependencies)


def test_existing_cluster_gets_no_addon(existing: Resources) -> None:
    assert not existing.of_type("aws:eks/addon:Addon")


def test_spot_pools_declare_the_spot_service_linked_role() -> None:
    # Karpenter troubleshooting, "Missing Service Linked Role": without AWSServiceRoleForEC2Spot every spot
    # NodeClaim fails (AuthFailure.ServiceLinkedRoleCreationNotPermitted); the account creates it once.
    captured = run(lambda: _cluster(Spec(name="train", node_pools=POOLS)))
    assert (
        "TrainingCluster 'train': spot pools (gpu) need the account's EC2 Spot service-linked role "
        "(AWSServiceRoleForEC2Spot), which Karpenter cannot create; without it no spot node launches. Create it "
        "once per account: aws iam create-service-linked-role --aws-service-name spot.amazonaws.com"
    ) in captured.warnings
    on_demand = run(lambda: _cluster(Spec(name="train", node_pools=POOLS[:1])))
    assert not [w for w in on_demand.warnings if "AWSServiceRoleForEC2Spot" in w]
