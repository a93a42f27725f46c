"""Network: a new VPC with private subnets, NAT, VPC endpoints, flow logs; or an existing VPC."""

from __future__ import annotations

import pytest

from mlplatform.components.aws.network import INTERFACE_ENDPOINTS, Network, NetworkArgs
from mlplatform.spec.network import Network as Spec
from tests.components.aws.helpers import ACCOUNT, KEY_ARN, REGION, TAGS, names
from tests.components.conftest import Resources, assert_tagged, run

ZONES = [f"{REGION}a", f"{REGION}b", f"{REGION}c"]


def _network(spec: Spec) -> None:
    Network(
        "network",
        NetworkArgs(
            spec=spec,
            names=names(),
            tags=TAGS,
            region=REGION,
            account_id=ACCOUNT,
            kms_key_arn=KEY_ARN,
            availability_zones=ZONES,
        ),
    )


@pytest.fixture(scope="module")
def new() -> Resources:
    return Resources(run(lambda: _network(Spec())))


@pytest.fixture(scope="module")
def single_nat() -> Resources:
    return Resources(run(lambda: _network(Spec(availability_zones=2, single_nat_gateway=True))))


@pytest.fixture(scope="module")
def existing() -> Resources:
    spec = Spec(
        vpc_id="vpc-0123456789abcdef0", private_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    )
    return Resources(run(lambda: _network(spec)))


def test_children_parented_named_and_tagged(new: Resources) -> None:
    component = new.component("mlplatform:aws:Network")
    children = [r for r in new.all if r is not component]
    assert all(r.parent == component.urn and r.name.startswith("network-") for r in children)
    assert assert_tagged(children, TAGS) >= 20


def test_private_subnets_in_three_zones_with_a_nat_each(new: Resources) -> None:
    private = [r for r in new.of_type("aws:ec2/subnet:Subnet") if "-private-" in r.name]
    assert sorted(r.inputs["availabilityZone"] for r in private) == ZONES
    assert all(r.inputs["mapPublicIpOnLaunch"] is False for r in private)
    assert len(new.of_type("aws:ec2/natGateway:NatGateway")) == 3
    routes = [r for r in new.of_type("aws:ec2/route:Route") if "-private-" in r.name]
    assert len(routes) == 3 and all("natGatewayId" in r.inputs for r in routes)


def test_single_nat_gateway_and_two_zones(single_nat: Resources) -> None:
    assert len(single_nat.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len([r for r in single_nat.of_type("aws:ec2/subnet:Subnet") if "-private-" in r.name]) == 2


def test_vpc_endpoints_keep_aws_traffic_private(new: Resources) -> None:
    endpoints = {r.inputs["serviceName"]: r.inputs for r in new.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert endpoints[f"com.amazonaws.{REGION}.s3"]["vpcEndpointType"] == "Gateway"
    for service in INTERFACE_ENDPOINTS:
        e = endpoints[f"com.amazonaws.{REGION}.{service}"]
        assert e["vpcEndpointType"] == "Interface" and e["privateDnsEnabled"] is True
        assert len(e["subnetIds"]) == 3


def test_flow_logs_to_an_encrypted_log_group(new: Resources) -> None:
    group = new.named("network-flow-logs").inputs
    assert group["kmsKeyId"] == KEY_ARN and group["retentionInDays"] == 365
    assert group["name"] == "/mlplatform/fraud/dev/vpc-flow-logs"
    flow = new.one("aws:ec2/flowLog:FlowLog").inputs
    assert flow["trafficType"] == "ALL" and flow["logDestinationType"] == "cloud-watch-logs"
    assert new.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs.get("ingress") in (None, [])


def test_security_groups_for_endpoints_serving_and_nodes(new: Resources) -> None:
    groups = {r.inputs["name"] for r in new.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert groups == {"fraud-dev-vpc-endpoints", "fraud-dev-serving", "fraud-dev-training-nodes"}
    ingress = new.named("network-endpoints-https-in").inputs
    assert (ingress["fromPort"], ingress["toPort"], ingress["ipProtocol"]) == (443, 443, "tcp")


def test_existing_vpc_is_used_as_it_is(existing: Resources) -> None:
    types = {r.type for r in existing.all}
    assert "aws:ec2/vpc:Vpc" not in types and "aws:ec2/subnet:Subnet" not in types
    assert len(existing.of_type("aws:ec2/securityGroup:SecurityGroup")) == 3
    assert all(
        r.inputs["vpcId"] == "vpc-0123456789abcdef0" for r in existing.of_type("aws:ec2/securityGroup:SecurityGroup")
    )
