"""--live-prices: replace the packaged table's instance prices with the AWS Pricing API's.

boto3's standard credential chain applies (profiles, AWS_PROFILE); AWS_ENDPOINT_URL points it
at a local emulator. The Pricing API answers from us-east-1 for every region.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from mlplatform.errors import MlplatformError
from mlplatform.plan.model import Plan

PRICING_REGION = "us-east-1"


def pricing_client() -> Any:
    import boto3

    return boto3.client("pricing", region_name=PRICING_REGION)


def with_live_prices(table: dict[str, Any], plan: Plan, client: Any = None) -> dict[str, Any]:
    """A copy of `table` with the plan's SageMaker and EC2 instance prices from the Pricing API,
    and its source and date saying so."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    region = plan.region or "us-east-1"
    live = copy.deepcopy(table)
    prices = live["regions"].setdefault(region, copy.deepcopy(table["regions"]["us-east-1"]))
    sagemaker, ec2 = _instance_types(plan)
    try:
        client = client or pricing_client()
        for kind in sorted(sagemaker):
            found = _price(client, "AmazonSageMaker", region, kind, _sagemaker_filters(kind))
            if found is not None:
                prices["sagemaker_hosting"][kind] = found
        for kind in sorted(ec2):
            found = _price(client, "AmazonEC2", region, kind, _ec2_filters(kind))
            if found is not None:
                prices["ec2"][kind] = found
    except NoCredentialsError:
        raise MlplatformError(
            "--live-prices needs AWS credentials for the Pricing API (pricing:GetProducts): set AWS_PROFILE "
            "or run `aws configure`; without the flag the packaged price table is used"
        ) from None
    except (ClientError, BotoCoreError) as exc:
        raise MlplatformError(f"--live-prices: the AWS Pricing API failed: {exc}") from None
    live["source"] = f"AWS Pricing API (live), {region}; other items from: {table['source']}"
    live["date"] = "live"
    return live


def _instance_types(plan: Plan) -> tuple[set[str], set[str]]:
    sagemaker: set[str] = set()
    ec2: set[str] = set()
    for r in plan.resources:
        if r.type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
            for v in r.inputs.get("productionVariants") or []:
                if v.get("instanceType"):
                    sagemaker.add(str(v["instanceType"]))
        elif r.type == "aws:eks/nodeGroup:NodeGroup":
            ec2.update(str(t) for t in r.inputs.get("instanceTypes") or [])
    return sagemaker, ec2


def _sagemaker_filters(kind: str) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": "instanceName", "Value": kind}]


def _ec2_filters(kind: str) -> list[dict[str, str]]:
    return [
        {"Type": "TERM_MATCH", "Field": "instanceType", "Value": kind},
        {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
        {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
        {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
        {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
    ]


def _price(client: Any, service: str, region: str, kind: str, filters: list[dict[str, str]]) -> float | None:
    """The on-demand hourly USD price; for SageMaker, of real-time hosting (usage type Host:)."""
    filters = [*filters, {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"ServiceCode": service, "Filters": filters, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = client.get_products(**kwargs)
        for item in page.get("PriceList", []):
            product = json.loads(item) if isinstance(item, str) else item
            usage = str(product.get("product", {}).get("attributes", {}).get("usagetype", ""))
            if service == "AmazonSageMaker" and "Host:" not in usage:
                continue
            price = _on_demand_usd(product)
            if price:
                return price
        token = page.get("NextToken")
        if not token:
            return None


def _on_demand_usd(product: dict[str, Any]) -> float | None:
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None and float(usd) > 0:
                return float(usd)
    return None
