"""Where AWS compute runs: an existing VPC, or one the platform creates."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from mlplatform.spec.base import SpecModel


class Network(SpecModel):
    """Omit `vpc_id` to get a dedicated VPC; name one to use it as it is."""

    vpc_id: str | None = Field(
        None,
        pattern=r"^vpc-[0-9a-f]{8,17}$",
        description="An existing VPC to use. Omitted: a new VPC is created for the platform.",
    )
    private_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list,
        description="Private subnets of the existing VPC (at least 2). Omitted with a new VPC: created.",
    )
    cidr: str = Field(
        "10.0.0.0/16",
        pattern=r"^\d{1,3}(\.\d{1,3}){3}/(1[6-9]|2[0-4])$",
        description="CIDR of a new VPC. Omitted: 10.0.0.0/16. Ignored with vpc_id.",
    )
    availability_zones: int = Field(3, ge=2, le=3, description="Zones a new VPC spans, 2 or 3. Omitted: 3 zones.")
    single_nat_gateway: bool = Field(
        False,
        description="One NAT gateway instead of one per zone (cheaper, not zone-redundant). "
        "Omitted: one NAT gateway per zone.",
    )
    flow_logs_retention_days: int = Field(365, ge=1, description="Retention of VPC flow logs. Omitted: 365 days.")

    @model_validator(mode="after")
    def _existing_needs_subnets(self) -> Network:
        if self.vpc_id and len(self.private_subnet_ids) < 2:
            raise ValueError("an existing VPC needs at least 2 private_subnet_ids in different zones")
        if self.private_subnet_ids and not self.vpc_id:
            raise ValueError("private_subnet_ids need the vpc_id they belong to")
        return self
