"""Rules across fields and components, over a platform resolved for one environment.

Each rule yields (path, message) pairs; paths point into the blueprint so problems carry lines.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mlplatform import naming
from mlplatform.spec import (
    cluster_rules,
    instance_types,
    pipeline_rules,
    serving_rules,
    tracker_rules,
    training_equipment,
)
from mlplatform.spec.environments import is_production
from mlplatform.spec.feature_store import FeatureStore
from mlplatform.spec.model_endpoint import AllAtOnce, ModelEndpoint
from mlplatform.spec.monitoring import MonitoringStack
from mlplatform.spec.platform import Platform
from mlplatform.spec.training_cluster import TrainingCluster

Finding = tuple[tuple[Any, ...], str]


@dataclass(frozen=True)
class Context:
    """What a rule needs besides the valid components: the environment, and every declared
    component's (kind, name), including those that failed validation, so that they are not
    reported a second time as missing."""

    env: str
    declared: tuple[tuple[str, str], ...] = ()

    def declared_names(self, kind: str) -> set[str]:
        return {name for k, name in self.declared if k == kind}


Rule = Callable[[Platform, Context], Iterator[Finding]]

# Account ids are 12 digits; names that embed one are checked at their real length.
_ACCOUNT = naming.ACCOUNT_ID_PLACEHOLDER


def _at(i: int, *field: Any) -> tuple[Any, ...]:
    return ("components", i, *field)


def duplicate_names(p: Platform, ctx: Context) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, (_, name) in enumerate(ctx.declared):
        if name in seen:
            yield (
                ("declared", i, "name"),
                (
                    f"component name '{name}' is already used by component #{seen[name] + 1}; "
                    "names must be unique within a platform"
                ),
            )
        elif name:
            seen[name] = i
    if len(set(p.environments)) != len(p.environments):
        yield ("environments",), "environments are listed more than once"


def physical_names(p: Platform, ctx: Context) -> Iterator[Finding]:
    """Names the platform will create, checked at their full length with the env prefix."""
    names = naming.Names(p.name, ctx.env)
    for problem in (
        naming.s3_bucket_problem(names.registry_bucket(_ACCOUNT)),
        naming.s3_bucket_problem(names.access_logs_bucket(_ACCOUNT)),
    ):
        if problem:
            yield ("name",), f"{problem}; shorten the platform name"
    for i, c in enumerate(p.components):
        checks: list[tuple[str, str | None]] = []
        if isinstance(c, FeatureStore):
            checks.append(("name", naming.s3_bucket_problem(names.offline_store_bucket(c.name, _ACCOUNT))))
        elif isinstance(c, ModelEndpoint):
            if c.target == "sagemaker":
                endpoint, group = names.endpoint(c.name), names.model_package_group(c.model)
                checks.append(("name", naming.sagemaker_name_problem(endpoint, "SageMaker endpoint name")))
                checks.append(("model", naming.sagemaker_name_problem(group, "SageMaker model package group name")))
                checks.append(("name", naming.iam_role_problem(names.role(c.name, "execution"))))
            else:
                checks.append(("name", naming.dns_label_problem(names.endpoint(c.name))))
                checks.append(("name", naming.iam_role_problem(names.model_reader_role(c.name))))
        elif isinstance(c, TrainingCluster):
            checks.append(("name", naming.iam_role_problem(names.role(c.name, "nodes"))))
            checks.append(("name", naming.iam_role_problem(names.role(c.name, "jobs"))))
            checks.append(("name", naming.dns_label_problem(names.namespace(c.name))))
            checks.append(("name", naming.eks_cluster_problem(names.eks_cluster(c.name))))
        for field, problem in checks:
            if problem:
                yield (
                    _at(i, field),
                    f"{problem}; shorten the {'model' if field == 'model' else 'component'} or platform name",
                )


def references(p: Platform, ctx: Context) -> Iterator[Finding]:
    endpoints = {c.name: c for c in p.components if isinstance(c, ModelEndpoint)}
    invalid = ctx.declared_names("ModelEndpoint") - set(endpoints)
    names = {name for _, name in ctx.declared}
    for i, c in enumerate(p.components):
        if not isinstance(c, MonitoringStack):
            continue
        for j, ref in enumerate(c.endpoints):
            ep = endpoints.get(ref)
            if ep is None and ref in invalid:
                continue  # reported where it is declared
            if ep is None:
                known = ", ".join(sorted(set(endpoints) | invalid)) or "none declared"
                yield _at(i, "endpoints", j), f"watches endpoint '{ref}', which does not exist (endpoints: {known})"
            elif (ep.target == "sagemaker") != (c.target == "aws"):
                yield (
                    _at(i, "endpoints", j),
                    (
                        f"a target='{c.target}' MonitoringStack cannot watch the target='{ep.target}' "
                        f"endpoint '{ref}'; use a MonitoringStack with target='"
                        f"{'aws' if ep.target == 'sagemaker' else 'kubernetes'}'"
                    ),
                )
    cluster = p.kubernetes.training_cluster
    if cluster is not None:
        target = p.component(cluster)
        if not isinstance(target, TrainingCluster) or target.target != "eks":
            eks = sorted(c.name for c in p.of_kind(TrainingCluster) if c.target == "eks") or ["none declared"]
            yield (
                ("kubernetes", "training_cluster"),
                f"'{cluster}' is not an eks TrainingCluster of this platform (eks TrainingClusters: {', '.join(eks)})",
            )
    for k, waiver in enumerate(p.waivers):
        if waiver.component is not None and waiver.component not in names:
            known = ", ".join(sorted(n for n in names if n)) or "none declared"
            yield (
                ("waivers", k, "component"),
                f"waiver names component '{waiver.component}', which does not exist (components: {known})",
            )


def ranges(p: Platform, ctx: Context) -> Iterator[Finding]:
    for i, c in enumerate(p.components):
        if isinstance(c, ModelEndpoint) and c.min_instances > c.max_instances:
            yield (
                _at(i, "min_instances"),
                (
                    f"min_instances ({c.min_instances}) is greater than max_instances ({c.max_instances}); "
                    f"raise max_instances to at least {c.min_instances} or lower min_instances"
                ),
            )
        if isinstance(c, TrainingCluster):
            for j, pool in enumerate(c.node_pools):
                if pool.min_nodes > pool.max_nodes:
                    yield (
                        _at(i, "node_pools", j, "min_nodes"),
                        (
                            f"min_nodes ({pool.min_nodes}) is greater than max_nodes ({pool.max_nodes}); "
                            f"raise max_nodes to at least {pool.min_nodes} or lower min_nodes"
                        ),
                    )


def instance_types_exist(p: Platform, ctx: Context) -> Iterator[Finding]:
    for i, c in enumerate(p.components):
        if isinstance(c, ModelEndpoint) and c.target == "sagemaker" and c.serverless is None:
            known = instance_types.sagemaker_types()
            if c.instance_type not in known:
                yield _at(i, "instance_type"), _sagemaker_type_message(c.instance_type, known)
        if isinstance(c, TrainingCluster):
            known = instance_types.ec2_types()
            for j, pool in enumerate(c.node_pools):
                if pool.instance_type not in known:
                    hint = instance_types.did_you_mean(pool.instance_type, known)
                    yield (
                        _at(i, "node_pools", j, "instance_type"),
                        (f"'{pool.instance_type}' is not an EC2 instance type{hint}"),
                    )
                elif pool.gpu and not instance_types.is_gpu(pool.instance_type):
                    yield (
                        _at(i, "node_pools", j, "gpu"),
                        (
                            f"gpu=True but '{pool.instance_type}' has no GPU; use a GPU type "
                            "(p*, g* families, e.g. g5.2xlarge) or set gpu=False"
                        ),
                    )


def _sagemaker_type_message(value: str, known: frozenset[str]) -> str:
    """Why `value` is not a SageMaker hosting type: a near miss, or an EC2 name without 'ml.'."""
    if value.startswith("ml."):
        return f"'{value}' is not a SageMaker instance type{instance_types.did_you_mean(value, known)}"
    if f"ml.{value}" in known:
        return f"'{value}' is not a SageMaker instance type: SageMaker's start with 'ml.'; did you mean 'ml.{value}'?"
    hint = instance_types.did_you_mean(f"ml.{value}", known) or "; e.g. 'ml.m5.large'"
    return f"'{value}' is not a SageMaker instance type (SageMaker hosting types start with 'ml.'){hint}"


def targets(p: Platform, ctx: Context) -> Iterator[Finding]:
    for i, c in enumerate(p.components):
        if isinstance(c, FeatureStore):
            if c.online_store == "redis" and c.target != "kubernetes":
                yield _at(i, "online_store"), "online_store='redis' runs on Kubernetes; set target='kubernetes'"
            if c.online_store == "dynamodb" and c.target == "kubernetes":
                yield (
                    _at(i, "online_store"),
                    ("target='kubernetes' serves online features from Redis; set online_store='redis' or 'none'"),
                )
        if isinstance(c, ModelEndpoint) and c.target == "kubernetes" and c.serverless is not None:
            yield _at(i, "serverless"), "serverless applies to target='sagemaker' only"
        if isinstance(c, ModelEndpoint) and c.serverless is not None and c.data_capture_percent:
            yield (
                _at(i, "data_capture_percent"),
                ("SageMaker Serverless Inference does not support data capture; set it to 0 or use instances"),
            )
        if isinstance(c, TrainingCluster):
            yield from _training_targets(p, i, c)
        for name in c.opt_out:
            if c.target == "kubernetes" and (c.kind, name) not in _KUBERNETES_OPT_OUTS:
                yield (
                    _at(i, "opt_out"),
                    (
                        f"opt-out '{name}' has no effect on target='kubernetes' (it turns off an AWS-managed "
                        "default); remove it"
                    ),
                )


_EKS_ADDONS = training_equipment.EKS_ADDONS


def _training_targets(p: Platform, i: int, c: TrainingCluster) -> Iterator[Finding]:
    if c.target == "kubernetes" and c.node_pools and p.kubernetes.training.karpenter is None:
        yield (
            _at(i, "node_pools"),
            "node_pools on target='kubernetes' become Karpenter NodePools, and the cluster declares no "
            "Karpenter; declare it with Platform(kubernetes=KubernetesCluster(training=TrainingEquipment("
            "karpenter=DeclaredKarpenter(node_role=..., discovery_tag=...)))) or remove node_pools",
        )
    for name in c.addon_versions:
        if c.target != "eks" or c.existing_cluster:
            yield _at(i, "addon_versions"), "addon_versions apply to an EKS cluster the platform creates; remove it"
            break
        if name not in _EKS_ADDONS:
            yield (
                _at(i, "addon_versions", name),
                f"'{name}' is not an add-on the platform installs ({', '.join(_EKS_ADDONS)})",
            )
    if c.target == "eks" and not c.existing_cluster and c.system_nodes.instance_type not in instance_types.ec2_types():
        hint = instance_types.did_you_mean(c.system_nodes.instance_type, instance_types.ec2_types())
        yield (
            _at(i, "system_nodes", "instance_type"),
            f"'{c.system_nodes.instance_type}' is not an EC2 instance type{hint}",
        )


EKS_API_DOC = "docs/eks-api-access.md"


def eks_api_access(p: Platform, ctx: Context) -> Iterator[Finding]:
    """The program creates Kubernetes objects on a created EKS cluster in the same `pulumi up`, so
    the runner must reach its API: the endpoint is private, and the cluster security group admits
    only the cluster's own nodes (EKS User Guide, "Cluster API server endpoint")."""
    vpc_created = p.network is None or p.network.vpc_id is None
    for i, c in enumerate(p.components):
        if not isinstance(c, TrainingCluster):
            continue
        access = c.api_access
        if c.target != "eks" or c.existing_cluster:
            if access.declared():
                yield (
                    _at(i, "api_access"),
                    "api_access applies to an EKS cluster the platform creates; an existing cluster's endpoint "
                    "access is set where that cluster is managed; remove it",
                )
            continue
        public = "private_endpoint" in c.opt_out
        private_paths = access.runner_security_groups or access.runner_cidrs
        if private_paths and vpc_created:
            yield (
                _at(i, "api_access", "runner_security_groups" if access.runner_security_groups else "runner_cidrs"),
                "a VPC this `pulumi up` creates has no route from the runner's network yet (no peering, VPN or "
                "runner inside it), so the first deploy could not reach the private endpoint; use an existing "
                "VPC (network=Network(vpc_id=..., private_subnet_ids=[...])) the runner is in or routed to, or "
                f"api_access.public_cidrs with opt_out 'private_endpoint' ({EKS_API_DOC})",
            )
        if access.public_cidrs and not public:
            yield (
                _at(i, "api_access", "public_cidrs"),
                "public_cidrs make the API endpoint public: add opt_out 'private_endpoint' (reported in every "
                "plan, waived in production) or remove them",
            )
        if public and not access.public_cidrs:
            yield (
                _at(i, "api_access", "public_cidrs"),
                "opt_out 'private_endpoint' makes the API endpoint public, and with no public_cidrs EKS opens it "
                "to every address (0.0.0.0/0); list the deploy runner's public addresses in "
                "api_access.public_cidrs",
            )
        for j, cidr in enumerate(access.public_cidrs):
            if cidr.endswith("/0"):
                yield (
                    _at(i, "api_access", "public_cidrs", j),
                    f"'{cidr}' opens the API endpoint to every address; list the deploy runner's public addresses",
                )
        if not public and not private_paths and not access.public_cidrs:
            yield (
                _at(i, "api_access"),
                "the cluster's API endpoint is private and nothing lets the deploy runner reach it, so "
                "`pulumi up` would fail creating the cluster's Kubernetes objects; declare api_access=ApiAccess(...) "
                "with runner_security_groups or runner_cidrs (an existing VPC the runner is in or routed to), or "
                f"with public_cidrs and opt_out 'private_endpoint' ({EKS_API_DOC})",
            )


# Opt-outs that still mean something on target="kubernetes": the S3 offline store of a
# Kubernetes FeatureStore keeps the AWS bucket defaults. The others are SageMaker, EKS or
# CloudWatch settings a Kubernetes component does not create.
_KUBERNETES_OPT_OUTS = {
    ("FeatureStore", "kms_encryption"),
    ("FeatureStore", "versioning"),
    ("FeatureStore", "access_logging"),
    ("ExperimentTracker", "authentication"),
}


def feature_stores(p: Platform, ctx: Context) -> Iterator[Finding]:
    for i, c in enumerate(p.components):
        if isinstance(c, FeatureStore):
            for path, message in c.problems():
                yield _at(i, *path), message


def environment_rules(p: Platform, ctx: Context) -> Iterator[Finding]:
    watched = {e for c in p.components if isinstance(c, MonitoringStack) for e in c.endpoints}
    for i, c in enumerate(p.components):
        if not isinstance(c, ModelEndpoint):
            continue
        if is_production(ctx.env) and c.serverless is None and c.min_instances < 2:
            yield (
                _at(i, "min_instances"),
                (
                    f"{ctx.env} endpoints need at least 2 instances to survive an instance or zone failure; "
                    f"got {c.min_instances}. Use per_env({ctx.env}=2, ...)"
                ),
            )
        if not isinstance(c.deployment, AllAtOnce) and c.name not in watched:
            yield (
                _at(i, "deployment"),
                (
                    f"a {c.deployment.strategy} rollout rolls back on alarms, and no MonitoringStack "
                    f"watches '{c.name}'; add it to a MonitoringStack's endpoints"
                ),
            )


RULES: tuple[Rule, ...] = (
    duplicate_names,
    physical_names,
    references,
    ranges,
    instance_types_exist,
    targets,
    feature_stores,
    environment_rules,
    eks_api_access,
    *tracker_rules.RULES,
    cluster_rules.kubernetes_capabilities,
    cluster_rules.workload_identity,
    *serving_rules.RULES,
    *pipeline_rules.RULES,
)


# The guardrails (mlplatform.policy rule ids) each opt-out breaks. In production an opt-out is
# an error unless the blueprint waives every rule it breaks; elsewhere it is a warning. The
# policy tests check that every id here is a registered rule.
OPT_OUT_GUARDRAILS: dict[tuple[str, str], tuple[str, ...]] = {
    ("FeatureStore", "kms_encryption"): ("MLP-S3-001", "MLP-DDB-002"),
    ("FeatureStore", "versioning"): ("MLP-S3-002",),
    ("FeatureStore", "access_logging"): ("MLP-S3-004",),
    ("FeatureStore", "point_in_time_recovery"): ("MLP-DDB-001",),
    ("TrainingCluster", "private_endpoint"): ("MLP-EKS-001",),
    ("TrainingCluster", "secrets_encryption"): ("MLP-EKS-002",),
    ("TrainingCluster", "control_plane_logging"): ("MLP-EKS-003",),
    ("ModelEndpoint", "kms_encryption"): ("MLP-SM-001", "MLP-SM-005", "MLP-LOG-002"),
    ("ModelEndpoint", "network_isolation"): ("MLP-SM-002",),
    ("ModelEndpoint", "vpc"): ("MLP-SM-003",),
    ("MonitoringStack", "kms_encryption"): ("MLP-SNS-001",),
}


def opt_outs(p: Platform, env: str) -> Iterator[tuple[tuple[Any, ...], str, bool]]:
    """Secure defaults switched off: (path, message, is_error). Listed wherever the platform is
    validated; in production each one must be waived, rule by rule."""
    for i, c in enumerate(p.components):
        for name in c.opt_out:
            if c.target == "kubernetes" and (c.kind, name) not in _KUBERNETES_OPT_OUTS:
                continue  # reported by `targets`: it has no effect there
            rules = OPT_OUT_GUARDRAILS.get((c.kind, name), ())
            waived = {w.rule for w in p.waivers if w.component in (None, c.name)}
            open_rules = [r for r in rules if r not in waived]
            if is_production(env) and open_rules:
                yield (
                    _at(i, "opt_out"),
                    f"opt-out '{name}' breaks guardrail {', '.join(open_rules)} in {env}; remove it, or waive "
                    f"each rule with Waiver(rule=..., reason=..., component='{c.name}')",
                    True,
                )
            else:
                note = f" (waived: {', '.join(rules)})" if rules and not open_rules else ""
                yield _at(i, "opt_out"), f"secure default '{name}' is turned off{note}", False
    yield from tracker_rules.in_cluster_database(p, env)
    yield from _reserved_public_cidrs(p)


def _reserved_public_cidrs(p: Platform) -> Iterator[tuple[tuple[Any, ...], str, bool]]:
    """EKS refuses reserved addresses in publicAccessCidrs (EKS User Guide, "Cluster API server
    endpoint"): a documentation range left in a blueprint is a template to fill in before deploying."""
    for i, c in enumerate(p.components):
        if not isinstance(c, TrainingCluster):
            continue
        for j, cidr in enumerate(c.api_access.public_cidrs):
            network = ipaddress.ip_network(cidr)  # checked by the spec's Cidr type
            if not network.is_global and network.prefixlen > 0:
                yield (
                    _at(i, "api_access", "public_cidrs", j),
                    f"'{cidr}' is not a public internet range (documentation, private or other reserved "
                    "addresses), which EKS refuses for the public endpoint: replace it with the deploy runner's "
                    "egress addresses before `pulumi up`",
                    False,
                )
