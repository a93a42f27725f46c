"""An existing VPC named without its private subnets."""

from mlplatform import Network, Platform

platform = Platform(
    name="fraud",
    team="risk-ml",
    network=Network(vpc_id="vpc-0a1b2c3d4e5f60718"),
)
