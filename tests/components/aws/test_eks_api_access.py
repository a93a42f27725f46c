"""TrainingCluster.api_access: how the deploy runner reaches a created cluster's API.

The same `pulumi up` creates Kubernetes objects on the cluster it creates, so the runner needs a
path to the endpoint before the Kubernetes provider is used (docs/eks-api-access.md).
"""

from __future__ import annotations

import pytest

from mlplatform.spec.training_cluster import ApiAccess, NodePool
from mlplatform.spec.training_cluster import TrainingCluster as Spec
from tests.components.aws.test_training_cluster import _cluster
from tests.components.conftest import Resources, run

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
