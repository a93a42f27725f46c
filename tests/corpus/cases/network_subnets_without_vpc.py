"""Private subnets given without the VPC they belong to."""

from mlplatform import Network, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    network=Network(private_subnet_ids=["subnet-0a1b2c3d", "subnet-4e5f6a7b"]),
)
