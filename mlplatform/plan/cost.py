"""Monthly cost estimate of a plan from the price table shipped with the package.

Counts instance hours: SageMaker endpoints at their minimum and maximum instances, EKS node
groups at their minimum and maximum nodes (spot at the table's assumed discount), NAT gateways,
interface VPC endpoints (per endpoint per zone), EKS control planes, and the small fixed monthly
items (KMS keys, alarms, dashboards). What is billed by usage (S3, DynamoDB on-demand, SNS, logs)
is listed, not priced; what has no charge of its own is listed as free; what the table cannot
price is listed as such. A price table older than MAX_PRICE_AGE_DAYS is warned about.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from importlib import resources as package_files
from typing import Any

from mlplatform.errors import MlplatformError
from mlplatform.plan.model import Plan, PlannedResource

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
SCALING_TARGET = "aws:appautoscaling/target:Target"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"  # Karpenter: 0..limits.nodes of one instance type
CLUSTER = "aws:eks/cluster:Cluster"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
TABLE = "aws:dynamodb/table:Table"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SERVICE = "kubernetes:core/v1:Service"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
MAX_PRICE_AGE_DAYS = 365  # list prices change; past a year the table is likely out of date

FIXED_MONTHLY = {
    "aws:kms/key:Key": ("kms_key_month", "KMS key"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("alarm_month", "CloudWatch alarm"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": ("alarm_month", "CloudWatch composite alarm"),
    "aws:cloudwatch/dashboard:Dashboard": ("dashboard_month", "CloudWatch dashboard"),
}
USAGE_BASED = {
    "aws:s3/bucket:Bucket": "S3 storage and requests",
    "aws:sns/topic:Topic": "SNS publishes and deliveries",
    "aws:cloudwatch/logGroup:LogGroup": "log ingestion and storage",
    "aws:sagemaker/featureGroup:FeatureGroup": "Feature Store reads, writes and storage",
    "aws:glue/catalogDatabase:CatalogDatabase": "Glue Data Catalog objects and requests",
    "aws:glue/catalogTable:CatalogTable": "Glue Data Catalog objects and requests",
    "aws:ecr/repository:Repository": "ECR storage",
    "kubernetes:core/v1:PersistentVolumeClaim": "volume storage, priced by the cluster's storage class",
    "aws:ec2/flowLog:FlowLog": "flow log records, billed as vended log ingestion into CloudWatch Logs",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": "a processing job's instance hours on each scheduled run",
    "aws:sqs/queue:Queue": "SQS requests",
    "aws:athena/workgroup:Workgroup": "Athena queries, per data scanned",
}
# No charge of their own (or billed through the resource they configure).
FREE_PREFIXES = (
    "pulumi:",
    "mlplatform:",
    "aws:iam/",
    "aws:ec2/vpc:",
    "aws:ec2/subnet:",
    "aws:ec2/routeTable",
    "aws:ec2/route:",
    "aws:ec2/securityGroup",
    "aws:ec2/internetGateway",
    "aws:ec2/defaultSecurityGroup",
    "aws:vpc/",
    "aws:s3/bucket",  # companions of a bucket (Bucket itself is matched first)
    "aws:kms/alias",
    "aws:ssm/parameter",
    "aws:sagemaker/model:",
    "aws:sagemaker/endpoint:",
    "aws:sagemaker/modelPackageGroup",
    "aws:appautoscaling/",
    "aws:sns/topicSubscription",
    "aws:sns/topicPolicy",
    "aws:cloudwatch/eventTarget",
    "aws:cloudwatch/eventRule",  # rules cost nothing; AWS service events are delivered free
    "aws:eks/addon",
    "aws:eks/accessEntry",
    "aws:eks/accessPolicyAssociation",
    "aws:eks/podIdentityAssociation",
    "aws:iam",
    "aws:ec2/launchTemplate",
    "aws:rds/subnetGroup",
    "aws:sqs/queuePolicy",
    "aws:sagemaker/dataQualityJobDefinition",  # a definition; its schedule's runs are billed
    "random:",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret",
    "kubernetes:networking.k8s.io/",
    "kubernetes:rbac.authorization.k8s.io/",
    "kubernetes:policy/",
    "kubernetes:autoscaling/",
    "kubernetes:monitoring.coreos.com/",
    "kubernetes:scheduling.k8s.io/",
)
WORKLOADS = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
)


def price_table() -> dict[str, Any]:
    text = package_files.files("mlplatform.plan").joinpath("prices.json").read_text(encoding="utf-8")
    table: dict[str, Any] = json.loads(text)
    return table


@dataclass
class Item:
    component: str
    resource: str
    type: str
    what: str
    unit_price: float  # USD per hour or per month, as `unit` says
    unit: str  # "hour" | "month"
    quantity_min: float
    quantity_max: float
    monthly_min: float
    monthly_max: float


@dataclass
class Unpriced:
    component: str
    resource: str
    type: str
    reason: str


@dataclass
class Estimate:
    region: str
    date: str
    source: str
    currency: str
    hours_per_month: float
    items: list[Item] = field(default_factory=list)
    usage_based: list[Unpriced] = field(default_factory=list)
    not_priced: list[Unpriced] = field(default_factory=list)
    free: list[Unpriced] = field(default_factory=list)  # no charge of their own
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the estimate itself (a stale table)

    @property
    def monthly_min(self) -> float:
        return round(sum(i.monthly_min for i in self.items), 2)

    @property
    def monthly_max(self) -> float:
        return round(sum(i.monthly_max for i in self.items), 2)

    def components(self) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for i in self.items:
            lo, hi = out.get(i.component, (0.0, 0.0))
            out[i.component] = (lo + i.monthly_min, hi + i.monthly_max)
        return {k: (round(lo, 2), round(hi, 2)) for k, (lo, hi) in out.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "currency": self.currency,
            "prices": {"date": self.date, "source": self.source},
            "hours_per_month": self.hours_per_month,
            "components": [
                {
                    "component": name,
                    "monthly_min": lo,
                    "monthly_max": hi,
                    "items": [vars(i) for i in self.items if i.component == name],
                }
                for name, (lo, hi) in self.components().items()
            ],
            "total": {"monthly_min": self.monthly_min, "monthly_max": self.monthly_max},
            "usage_based": [vars(u) for u in self.usage_based],
            "not_priced": [vars(u) for u in self.not_priced],
            "free": [vars(u) for u in self.free],
            "notes": self.notes,
            "warnings": self.warnings,
        }


class ComponentOf:
    """The blueprint component a resource belongs to: its tag or label, else the nearest
    mlplatform component resource above it; 'platform' for shared resources."""

    def __init__(self, plan: Plan) -> None:
        self.by_urn = plan.by_urn()
        self.cache: dict[str, str] = {}
        # A component resource is named for its blueprint component by the tag on its children.
        self.tagged_children: dict[str, str] = {}
        for r in plan.resources:
            tags = r.inputs.get("tags")
            if r.parent and isinstance(tags, dict) and isinstance(tags.get("mlplatform:component"), str):
                self.tagged_children.setdefault(r.parent, str(tags["mlplatform:component"]))

    def __call__(self, resource: PlannedResource) -> str:
        seen = 0
        current: PlannedResource | None = resource
        while current is not None and seen < 100:
            seen += 1
            if current.urn in self.cache:
                return self.cache[current.urn]
            tags = current.inputs.get("tags")
            if isinstance(tags, dict) and isinstance(tags.get("mlplatform:component"), str):
                return self._remember(resource, str(tags["mlplatform:component"]))
            labels = (current.inputs.get("metadata") or {}).get("labels")
            if isinstance(labels, dict) and isinstance(labels.get("mlplatform/component"), str):
                return self._remember(resource, str(labels["mlplatform/component"]))
            if current.is_component and current.type.startswith("mlplatform:"):
                return self._remember(resource, self.tagged_children.get(current.urn, current.name))
            current = self.by_urn.get(current.parent) if current.parent else None
        return self._remember(resource, "platform")

    def _remember(self, resource: PlannedResource, name: str) -> str:
        self.cache[resource.urn] = name
        return name


def estimate(
    plan: Plan, table: dict[str, Any] | None = None, region: str | None = None, today: datetime.date | None = None
) -> Estimate:
    table = table or price_table()
    region = region or plan.region or "us-east-1"
    if region not in table["regions"]:
        known = ", ".join(sorted(table["regions"]))
        raise MlplatformError(f"the price table has no prices for region '{region}' (it has {known})")
    prices = table["regions"][region]
    hours = float(table["hours_per_month"])
    est = Estimate(region, table["date"], table["source"], table["currency"], hours)
    est.warnings += _staleness(str(table["date"]), today or datetime.date.today())
    component = ComponentOf(plan)
    scaling = _scaling_targets(plan)

    def hourly(r: PlannedResource, what: str, price: float, lo: float, hi: float) -> None:
        est.items.append(
            Item(
                component(r),
                r.name,
                r.type,
                what,
                price,
                "hour",
                lo,
                hi,
                round(price * lo * hours, 2),
                round(price * hi * hours, 2),
            )
        )

    def unpriced(r: PlannedResource, reason: str, usage: bool = False) -> None:
        (est.usage_based if usage else est.not_priced).append(Unpriced(component(r), r.name, r.type, reason))

    def free(r: PlannedResource, reason: str = "no charge of its own") -> None:
        est.free.append(Unpriced(component(r), r.name, r.type, reason))

    for r in plan.resources:
        i = r.inputs
        if not r.custom or r.type.startswith("pulumi:"):
            continue  # components and providers: Pulumi's own, not cloud resources
        if r.type == ENDPOINT_CONFIG:
            for v in i.get("productionVariants") or []:
                if v.get("serverlessConfig"):
                    unpriced(r, f"variant '{v.get('variantName')}' is serverless: billed per request", usage=True)
                    continue
                kind = str(v.get("instanceType"))
                price = prices["sagemaker_hosting"].get(kind)
                lo = int(v.get("initialInstanceCount") or 1)
                lo, hi = scaling.get((_physical(r), str(v.get("variantName"))), (lo, lo))
                if price is None:
                    unpriced(r, f"no SageMaker hosting price for {kind} in {region}")
                else:
                    hourly(r, f"SageMaker {kind} x {lo}..{hi} (variant {v.get('variantName')})", price, lo, hi)
            if (i.get("dataCaptureConfig") or {}).get("enableCapture", True) and i.get("dataCaptureConfig"):
                unpriced(r, "data capture: S3 storage of captured requests", usage=True)
        elif r.type in (NODE_GROUP, NODE_POOL):
            if r.type == NODE_GROUP:
                kind = str((i.get("instanceTypes") or ["?"])[0])
                cfg = i.get("scalingConfig") or {}
                lo, hi = int(cfg.get("minSize") or 0), int(cfg.get("maxSize") or 0)
                capacity = str(i.get("capacityType") or "")
            else:
                kind, capacity = _karpenter_pool(i)
                lo, hi = 0, int((i.get("spec") or {}).get("limits", {}).get("nodes") or 0)
            price = prices["ec2"].get(kind)
            if price is None:
                unpriced(r, f"no EC2 price for {kind} in {region}")
                continue
            spot = capacity.upper() == "SPOT"
            if spot:
                price = round(price * (1 - float(table["spot_discount"])), 4)
            hourly(r, f"EC2 {kind}{' spot' if spot else ''} x {lo}..{hi} nodes", price, lo, hi)
        elif r.type == CLUSTER:
            hourly(r, "EKS control plane", prices["eks_cluster_hour"], 1, 1)
        elif r.type == NAT:
            hourly(r, "NAT gateway (plus data processed, usage-based)", prices["nat_gateway_hour"], 1, 1)
        elif r.type == EIP:
            hourly(r, "public IPv4 address", prices.get("public_ipv4_hour", 0.005), 1, 1)
        elif r.type == VPC_ENDPOINT and str(i.get("vpcEndpointType") or "Gateway") == "Interface":
            zones = len(i.get("subnetIds") or []) or 1
            plural = "s" if zones != 1 else ""
            what = f"interface VPC endpoint x {zones} zone{plural} (plus data processed, usage-based)"
            hourly(r, what, prices["vpc_interface_endpoint_az_hour"], zones, zones)
        elif r.type == VPC_ENDPOINT:
            free(r, "gateway endpoint: no hourly or data charge")
        elif r.type in FIXED_MONTHLY:
            key, what = FIXED_MONTHLY[r.type]
            price = float(prices[key])
            est.items.append(Item(component(r), r.name, r.type, what, price, "month", 1, 1, price, price))
        elif r.type == TABLE:
            if i.get("billingMode") == "PAY_PER_REQUEST":
                unpriced(r, "DynamoDB on-demand reads, writes and storage", usage=True)
            else:
                unpriced(r, "DynamoDB provisioned capacity: not in the price table")
        elif r.type in USAGE_BASED:
            unpriced(r, USAGE_BASED[r.type], usage=True)
        elif r.type in WORKLOADS:
            unpriced(r, _workload_reason(r))
        elif r.type == HELM_RELEASE:
            unpriced(r, "deploys workloads onto the cluster's nodes, which are priced where they are provisioned")
        elif r.type == SERVICE and str((i.get("spec") or {}).get("type")) == "LoadBalancer":
            unpriced(r, "a LoadBalancer Service: the cloud load balancer it provisions is not in the price table")
        elif r.type.startswith(FREE_PREFIXES) or r.type.startswith("kubernetes:"):
            free(r)  # Kubernetes objects cost nothing of their own; what runs them is priced above
        else:
            unpriced(r, "no price in the table for this resource type")
    if any(
        (r.type == NODE_GROUP and str(r.inputs.get("capacityType")).upper() == "SPOT")
        or (r.type == NODE_POOL and _karpenter_pool(r.inputs)[1] == "SPOT")
        for r in plan.resources
    ):
        est.notes.append(str(table.get("spot_note", "")))
    return est


def _physical(r: PlannedResource) -> str:
    name = r.inputs.get("name")
    return str(name) if name else r.name


def _scaling_targets(plan: Plan) -> dict[tuple[str, str], tuple[int, int]]:
    """(endpoint configuration name, variant) -> (min, max) instances from autoscaling targets."""
    config_of = {_physical(e): str(e.inputs.get("endpointConfigName")) for e in plan.of_type(ENDPOINT)}
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for t in plan.of_type(SCALING_TARGET):
        parts = str(t.inputs.get("resourceId") or "").split("/")
        if len(parts) == 4 and parts[0] == "endpoint" and parts[2] == "variant":
            config = config_of.get(parts[1])
            if config is not None:
                lo, hi = int(t.inputs.get("minCapacity") or 1), int(t.inputs.get("maxCapacity") or 1)
                out[(config, parts[3])] = (lo, hi)
    return out


def _workload_reason(r: PlannedResource) -> str:
    spec = r.inputs.get("spec") or {}
    replicas = spec.get("replicas")
    count = f" ({replicas} replica{'' if replicas == 1 else 's'})" if replicas is not None else ""
    return f"runs on the cluster's nodes, which are priced where they are provisioned{count}"


def _staleness(date: str, today: datetime.date) -> list[str]:
    """A warning when the table's date is more than MAX_PRICE_AGE_DAYS before `today`."""
    try:
        when = datetime.date.fromisoformat(date)
    except ValueError:  # "live": just fetched from the Pricing API
        return []
    age = (today - when).days
    if age <= MAX_PRICE_AGE_DAYS:
        return []
    return [
        f"the price table is from {date}, {age} days ago (more than {MAX_PRICE_AGE_DAYS}): list prices may have "
        "changed since; --live-prices asks the AWS Pricing API for current instance prices"
    ]


def _karpenter_pool(inputs: dict[str, Any]) -> tuple[str, str]:
    """(instance type, SPOT or ON_DEMAND) of a NodePool pinned to one of each."""
    requirements = ((inputs.get("spec") or {}).get("template") or {}).get("spec", {}).get("requirements") or []
    values = {q.get("key"): (q.get("values") or ["?"])[0] for q in requirements}
    capacity = "SPOT" if values.get("karpenter.sh/capacity-type") == "spot" else "ON_DEMAND"
    return str(values.get("node.kubernetes.io/instance-type", "?")), capacity
