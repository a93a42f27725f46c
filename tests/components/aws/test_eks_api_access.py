"""TrainingCluster.api_access: how the deploy runner reaches a created cluster's API.

The same `pulumi up` creates Kubernetes objects on the cluster it creates, so the runner needs a
path to the endpoint before the Kubernetes provider is used (docs/eks-api-access.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlplatform.spec.training_cluster import ApiAccess, NodePool
from mlplatform.spec.training_cluster import TrainingCluster as Spec
from tests.components.aws.test_training_cluster import _cluster
from tests.components.conftest import STACKS, Resources, run, run_stack_file

POOL = [NodePool(name="cpu", instance_type="m6i.2xlarge", min_nodes=1, max_nodes=2)]
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture(scope="module")
def private() -> Resources:
    access = ApiAccess(runner_security_groups=["sg-0123456789abcdef0"], runner_cidrs=["10.20.0.0/16"])
    return Resources(run(lambda: _cluster(Spec(name="train", node_pools=POOL, api_access=access))))


@pytest.fixture(scope="module")
def public() -> Resources:
    spec = Spec(
        name="train",
        node_pools=POOL,
        api_access=ApiAccess(public_cidrs=["203.0.113.0/24", "198.51.100.7/32"]),
        opt_out=["private_endpoint"],
    )
    return Resources(run(lambda: _cluster(spec)))


def test_private_endpoint_admits_the_runner_groups_and_networks_on_443(private: Resources) -> None:
    # EKS User Guide, "Cluster API server endpoint": a private endpoint is reached through the cluster
    # security group, which EKS creates admitting only itself; the runner needs 443 there.
    vpc = private.named("train-cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False and vpc["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in vpc
    rules = {r.name: r.inputs for r in private.of_type(INGRESS)}
    common = {
        "securityGroupId": "sg-mock-train-cluster-cluster",
        "ipProtocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "description": "mlplatform deploy runner to the Kubernetes API",
    }
    assert {name: {k: v for k, v in i.items() if k != "tags"} for name, i in rules.items()} == {
        "train-api-from-sg-0123456789abcdef0": {**common, "referencedSecurityGroupId": "sg-0123456789abcdef0"},
        "train-api-from-10.20.0.0-16": {**common, "cidrIpv4": "10.20.0.0/16"},
    }


def test_kubernetes_provider_waits_for_the_runner_rules(private: Resources) -> None:
    # Pulumi creates what a resource depends on first: no Kubernetes call before the runner's path exists.
    provider = private.one(PROVIDER)
    rule_urns = {r.urn for r in private.of_type(INGRESS)}
    assert len(rule_urns) == 2 and rule_urns <= set(provider.dependencies)


def test_public_endpoint_only_for_the_declared_cidrs(public: Resources) -> None:
    # EKS API Reference, VpcConfigRequest.publicAccessCidrs: omitted, the public endpoint admits 0.0.0.0/0.
    vpc = public.named("train-cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["endpointPrivateAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24", "198.51.100.7/32"]
    assert public.of_type(INGRESS) == []


def test_existing_cluster_gets_no_runner_rules() -> None:
    # An existing cluster's endpoint access is its owner's; validation refuses api_access there.
    res = Resources(run(lambda: _cluster(Spec(name="train", existing_cluster="shared-eks", node_pools=POOL))))
    assert res.of_type(INGRESS) == []


def test_the_cluster_token_is_signed_as_the_principal_that_deploys(tmp_path: Path) -> None:
    # EKS API Reference, CreateCluster accessConfig.bootstrapClusterCreatorAdminPermissions: in API
    # authentication mode only the creator is cluster-admin, so `aws eks get-token` must sign as the
    # identity the aws provider deploys as (AWS CLI, eks get-token --role-arn; AWS_PROFILE).
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    data = yaml.load((STACKS / "Pulumi.prod.yaml").read_text())
    role = "arn:aws:iam::123456789012:role/fraud-prod-deployer"
    data["config"]["aws:profile"] = "fraud-prod"
    data["config"]["aws:assumeRoles"] = [{"roleArn": "arn:aws:iam::123456789012:role/ci"}, {"roleArn": role}]
    path = tmp_path / "Pulumi.prod.yaml"
    with path.open("w") as handle:
        yaml.dump(data, handle)
    provider = Resources(run_stack_file(path)).named("train-k8s")
    user = json.loads(provider.inputs["kubeconfig"])["users"][0]["user"]["exec"]
    assert user["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "fraud-prod-train",
        "--region",
        "us-east-1",
        "--role-arn",
        role,
    ]
    assert user["env"] == [{"name": "AWS_PROFILE", "value": "fraud-prod"}]
    # Without either, the default credential chain: the same one the provider uses.
    plain = Resources(run_stack_file(STACKS / "Pulumi.prod.yaml")).named("train-k8s")
    user = json.loads(plain.inputs["kubeconfig"])["users"][0]["user"]["exec"]
    assert user["args"][-2:] == ["--region", "us-east-1"] and "env" not in user
