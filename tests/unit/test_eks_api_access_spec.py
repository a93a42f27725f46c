"""Validation of TrainingCluster.api_access: a created EKS cluster must be reachable by `pulumi up`.

EKS User Guide, "Cluster API server endpoint": a private endpoint is reachable only from the
cluster's VPC and networks connected to it; a public one admits 0.0.0.0/0 unless publicAccessCidrs
says otherwise. The program creates Kubernetes objects on the cluster in the same run.
"""

from __future__ import annotations

from typing import Any

from mlplatform.spec.validate import validate_raw

EXISTING_VPC = {"vpc_id": "vpc-0a1b2c3d4e5f60718", "private_subnet_ids": ["subnet-0a1b2c3d", "subnet-0f1e2d3c"]}
DOC = "docs/eks-api-access.md"


def _problems(cluster: dict[str, Any], env: str = "dev", **platform: Any) -> list[str]:
    component = {"kind": "TrainingCluster", "name": "train", "target": "eks", **cluster}
    raw = {"name": "fraud", "team": "t", "components": [component], **platform}
    return [str(p) for p in validate_raw(raw, "bp.py", envs=[env]).problems]


def test_a_created_private_cluster_without_a_runner_path_is_an_error() -> None:
    # Private endpoint only, cluster security group admitting itself only: the first Kubernetes object fails.
    assert _problems({}) == [
        "bp.py: TrainingCluster 'train', field 'api_access': the cluster's API endpoint is private and "
        "nothing lets the deploy runner reach it, so `pulumi up` would fail creating the cluster's Kubernetes "
        "objects; declare api_access=ApiAccess(...) with runner_security_groups or runner_cidrs (an existing VPC "
        f"the runner is in or routed to), or with public_cidrs and opt_out 'private_endpoint' ({DOC})"
    ]


def test_runner_groups_in_an_existing_vpc_are_accepted() -> None:
    access = {"runner_security_groups": ["sg-0123456789abcdef0"], "runner_cidrs": ["10.20.0.0/16"]}
    assert _problems({"api_access": access}, network=EXISTING_VPC) == []


def test_runner_paths_into_a_vpc_this_run_creates_are_an_error() -> None:
    # A VPC created by the same run has no peering, VPN or runner inside it on the first deploy.
    assert _problems({"api_access": {"runner_cidrs": ["10.20.0.0/16"]}}) == [
        "bp.py: TrainingCluster 'train', field 'api_access.runner_cidrs': a VPC this `pulumi up` creates "
        "has no route from the runner's network yet (no peering, VPN or runner inside it), so the first deploy "
        "could not reach the private endpoint; use an existing VPC (network=Network(vpc_id=..., "
        "private_subnet_ids=[...])) the runner is in or routed to, or api_access.public_cidrs with opt_out "
        f"'private_endpoint' ({DOC})"
    ]


def test_public_cidrs_need_the_named_opt_out() -> None:
    assert _problems({"api_access": {"public_cidrs": ["52.94.76.0/24"]}}) == [
        "bp.py: TrainingCluster 'train', field 'api_access.public_cidrs': public_cidrs make the API "
        "endpoint public: add opt_out 'private_endpoint' (reported in every plan, waived in production) or "
        "remove them"
    ]


def test_a_public_endpoint_needs_cidrs_and_never_every_address() -> None:
    # EKS API Reference, VpcConfigRequest.publicAccessCidrs: the default is 0.0.0.0/0.
    assert _problems({"opt_out": ["private_endpoint"]}) == [
        "bp.py: TrainingCluster 'train', field 'api_access.public_cidrs': opt_out 'private_endpoint' makes "
        "the API endpoint public, and with no public_cidrs EKS opens it to every address (0.0.0.0/0); list the "
        "deploy runner's public addresses in api_access.public_cidrs",
        "bp.py: warning: TrainingCluster 'train', field 'opt_out': secure default 'private_endpoint' is turned off",
    ]
    assert _problems({"opt_out": ["private_endpoint"], "api_access": {"public_cidrs": ["0.0.0.0/0"]}})[0] == (
        "bp.py: TrainingCluster 'train', field 'api_access.public_cidrs[0]': '0.0.0.0/0' opens the API "
        "endpoint to every address; list the deploy runner's public addresses"
    )


def test_the_public_mode_is_an_opt_out_that_production_must_waive() -> None:
    cluster = {"opt_out": ["private_endpoint"], "api_access": {"public_cidrs": ["52.94.76.0/24"]}}
    assert _problems(cluster, env="prod") == [
        "bp.py: TrainingCluster 'train', field 'opt_out': opt-out 'private_endpoint' breaks guardrail "
        "MLP-EKS-001 in prod; remove it, or waive each rule with Waiver(rule=..., reason=..., component='train')"
    ]
    waiver = {"rule": "MLP-EKS-001", "reason": "runner CIDRs only", "component": "train"}
    assert [p for p in _problems(cluster, env="prod", waivers=[waiver]) if "warning" not in p] == []


def test_api_access_on_a_cluster_the_platform_does_not_create_is_an_error() -> None:
    message = (
        "api_access applies to an EKS cluster the platform creates; an existing cluster's endpoint access is "
        "set where that cluster is managed; remove it"
    )
    access = {"runner_cidrs": ["10.20.0.0/16"]}
    assert _problems({"existing_cluster": "shared", "api_access": access}) == [
        f"bp.py: TrainingCluster 'train', field 'api_access': {message}"
    ]
    assert _problems({"existing_cluster": "shared"}) == []


def test_malformed_addresses_name_the_field() -> None:
    problems = _problems({"api_access": {"runner_security_groups": ["default"], "public_cidrs": ["10.0.0.1"]}})
    assert problems == [
        "bp.py: TrainingCluster 'train', field 'api_access.public_cidrs[0]': must be an IPv4 CIDR block such as "
        "203.0.113.0/24 or 198.51.100.7/32; got '10.0.0.1'",
        "bp.py: TrainingCluster 'train', field 'api_access.runner_security_groups[0]': must be a security group "
        "id such as sg-0123456789abcdef0; got 'default'",
    ]


def test_host_bits_are_an_error_and_reserved_public_ranges_a_warning() -> None:
    # EKS User Guide, "Cluster API server endpoint": public access CIDR blocks cannot include reserved addresses.
    public = {"opt_out": ["private_endpoint"]}
    assert _problems({**public, "api_access": {"public_cidrs": ["52.94.1.7/16"]}}) == [
        "bp.py: TrainingCluster 'train', field 'api_access.public_cidrs[0]': '52.94.1.7/16' has host bits set; "
        "did you mean '52.94.0.0/16'?",
        "bp.py: warning: TrainingCluster 'train', field 'opt_out': secure default 'private_endpoint' is turned off",
    ]
    # Matching the pattern is not enough: the numbers must be octets (an error, never a traceback).
    assert _problems({**public, "api_access": {"runner_cidrs": ["999.0.0.0/8"], "public_cidrs": ["52.94.0.0/16"]}})[
        0
    ] == (
        "bp.py: TrainingCluster 'train', field 'api_access.runner_cidrs[0]': '999.0.0.0/8' is not an IPv4 network: "
        "each of the four numbers is 0-255"
    )
    assert _problems({**public, "api_access": {"public_cidrs": ["10.1.0.0/16", "52.94.0.0/16"]}}) == [
        "bp.py: warning: TrainingCluster 'train', field 'api_access.public_cidrs[0]': '10.1.0.0/16' is not a public "
        "internet range (documentation, private or other reserved addresses), which EKS refuses for the public "
        "endpoint: replace it with the deploy runner's egress addresses before `pulumi up`",
        "bp.py: warning: TrainingCluster 'train', field 'opt_out': secure default 'private_endpoint' is turned off",
    ]
