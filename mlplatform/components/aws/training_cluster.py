"""TrainingCluster on EKS: the cluster (or an existing one), managed node groups per NodePool,
IRSA, and the Kubernetes side (namespace, quota, limits, priority class, job service account)
through a provider built from the cluster.

Built from `aws.eks.Cluster` / `aws.eks.NodeGroup` (pulumi_eks is a multi-language component,
opaque to the offline plan). The API endpoint is private by default, and the same `pulumi up`
creates Kubernetes objects on it: `api_access` opens port 443 of the cluster security group to
the deploy runner's security groups or networks, or (opt-out `private_endpoint`) makes the
endpoint public for the runner's public CIDRs only (docs/eks-api-access.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from mlplatform import naming
from mlplatform.components.aws import cluster_addons, policies
from mlplatform.components.aws.cluster_observability import container_insights
from mlplatform.components.aws.karpenter import Karpenter, KarpenterArgs
from mlplatform.components.k8s import common as k8s_common
from mlplatform.components.k8s import training_charts
from mlplatform.components.k8s.training_queues import TrainingQueues, TrainingQueuesArgs, pool_labels
from mlplatform.components.k8s.training_runtimes import RuntimeContext, TrainingRuntimes, TrainingRuntimesArgs
from mlplatform.spec.training_cluster import NodePool
from mlplatform.spec.training_cluster import TrainingCluster as TrainingClusterSpec
from mlplatform.spec.training_equipment import TrainingEquipment

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
SPOT_ROLE_NOTE = (
    "TrainingCluster '{cluster}': spot pools ({pools}) need the account's EC2 Spot service-linked role "
    "(AWSServiceRoleForEC2Spot), which Karpenter cannot create; without it no spot node launches. Create it "
    "once per account: aws iam create-service-linked-role --aws-service-name spot.amazonaws.com"
)
GPU_TAINT = aws.eks.NodeGroupTaintArgs(key="nvidia.com/gpu", value="true", effect="NO_SCHEDULE")
SYSTEM_TAINT = aws.eks.NodeGroupTaintArgs(key=training_charts.SYSTEM_TAINT_KEY, value="true", effect="NO_SCHEDULE")
NODE_MANAGED_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly")


@dataclass(frozen=True)
class DeployIdentity:
    """Who `pulumi up` is to AWS, as the stack's aws provider config says: the token for the
    cluster must be that principal's, since with authentication_mode API only the cluster's
    creator gets cluster-admin (EKS API Reference, CreateCluster accessConfig
    bootstrapClusterCreatorAdminPermissions)."""

    profile: str | None = None  # aws:profile
    role_arn: str | None = None  # the last role of aws:assumeRoles (the one the provider acts as)

    @classmethod
    def from_config(cls) -> DeployIdentity:
        config = pulumi.Config("aws")
        roles = config.get_object("assumeRoles") or []
        last = roles[-1] if isinstance(roles, list) and roles else config.get_object("assumeRole")
        role = last.get("roleArn") if isinstance(last, dict) else None
        return cls(profile=config.get("profile"), role_arn=str(role) if role else None)


@dataclass
class TrainingClusterArgs:
    spec: TrainingClusterSpec
    names: naming.Names
    tags: dict[str, str]
    account_id: str
    region: str
    kms_key_arn: pulumi.Input[str]
    subnet_ids: list[pulumi.Output[str]] = field(default_factory=list)
    node_security_group_id: pulumi.Input[str] | None = None
    protect: bool = False  # prod: the cluster cannot be deleted by `pulumi up`
    log_retention_days: int = 365
    partition: str = "aws"
    pod_security_level: str = "restricted"  # on the training namespace, as on every platform namespace
    # Experiment tracking for the runtimes' containers (mlplatform.components.tracking_wiring.runtime_env).
    tracking_env: list[dict[str, Any]] = field(default_factory=list)
    identity: DeployIdentity = field(default_factory=DeployIdentity)


_BEFORE = cluster_addons.charts.ADDONS_BEFORE_NODES
_AFTER = cluster_addons.charts.ADDONS_AFTER_NODES


def groups_of(cluster_sg: pulumi.Input[str], nodes_sg: pulumi.Input[str] | None) -> list[pulumi.Input[str]]:
    """Security groups of every node: the cluster's, and the platform's node group when it has one."""
    return [cluster_sg] + ([nodes_sg] if nodes_sg else [])


def _chart_placement(placement: training_charts.Placement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if placement.node_selector:
        out["nodeSelector"] = dict(placement.node_selector)
    if placement.tolerations:
        out["tolerations"] = [dict(t) for t in placement.tolerations]
    return out


def k8s_labels(names: naming.Names, component: str) -> dict[str, str]:
    """Kubernetes labels carrying the tags (tag keys with ':' are not valid label keys)."""
    return {
        "app.kubernetes.io/managed-by": "mlplatform",
        "app.kubernetes.io/part-of": names.platform,
        "mlplatform.io/environment": names.env,
        "mlplatform.io/component": component,
    }


def kubeconfig(
    name: pulumi.Input[str],
    endpoint: pulumi.Input[str],
    ca: pulumi.Input[str],
    region: str,
    identity: DeployIdentity = DeployIdentity(),
) -> pulumi.Output[str]:
    """Kubeconfig (JSON) that authenticates with `aws eks get-token`: no long-lived credential,
    signed as the principal the aws provider deploys as (its profile, the role it assumes)."""
    role = ["--role-arn", identity.role_arn] if identity.role_arn else []
    env = [{"name": "AWS_PROFILE", "value": identity.profile}] if identity.profile else []

    def user_exec(cluster: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster, "--region", region, *role],
        }
        if env:
            out["env"] = env
        return out

    return pulumi.Output.all(name, endpoint, ca).apply(
        lambda v: json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": v[0], "cluster": {"server": v[1], "certificate-authority-data": v[2]}}],
                "contexts": [{"name": v[0], "context": {"cluster": v[0], "user": v[0]}}],
                "current-context": v[0],
                "users": [
                    {
                        "name": v[0],
                        "user": {"exec": user_exec(v[0])},
                    }
                ],
            }
        )
    )


class TrainingCluster(pulumi.ComponentResource):
    job_role: aws.iam.Role

    def __init__(self, name: str, args: TrainingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:TrainingCluster", name, None, opts)
        spec, n, a = args.spec, args.names, args
        self.args, self.spec = args, spec
        child = pulumi.ResourceOptions(parent=self)
        opt_out = {str(o) for o in spec.opt_out}
        self.opt_outs = sorted(opt_out)
        for item in self.opt_outs:
            pulumi.log.warn(f"TrainingCluster '{spec.name}': secure default '{item}' is turned off (opt_out)", self)
        spot = sorted(p.name for p in spec.node_pools if p.spot)
        if spot:
            # Declared, not created: CreateServiceLinkedRole fails where the role exists, and an
            # account creates it once (Karpenter troubleshooting, "Missing Service Linked Role").
            pulumi.log.warn(SPOT_ROLE_NOTE.format(cluster=spec.name, pools=", ".join(spot)), self)
        self.cluster_name = spec.existing_cluster or n.eks_cluster(spec.name)

        if spec.existing_cluster:
            existing = aws.eks.get_cluster_output(
                name=spec.existing_cluster, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            endpoint, ca = existing.endpoint, existing.certificate_authorities[0].data
            issuer = existing.identities[0].oidcs[0].issuer
            cluster_sg: pulumi.Input[str] = existing.vpc_config.cluster_security_group_id
            subnets: pulumi.Input[list[str]] = existing.vpc_config.subnet_ids
            self.cluster: aws.eks.Cluster | None = None
        else:
            self._cluster(name, opt_out)
            assert self.cluster is not None
            endpoint = self.cluster.endpoint
            ca = self.cluster.certificate_authority.data
            issuer = self.cluster.identities[0].oidcs[0].issuer
            cluster_sg = self.cluster.vpc_config.cluster_security_group_id
            subnets = pulumi.Output.all(*a.subnet_ids).apply(lambda ids: [str(i) for i in ids])

        self.oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"], tags=a.tags, opts=child
        )
        addons = self._addon_args()
        before = cluster_addons.before_nodes(name, addons, self) if addons else []
        self._node_groups(name, cluster_sg, subnets, before)
        after = cluster_addons.after_nodes(name, addons, self, list(self.node_groups.values())) if addons else []
        self.addons = before + after
        namespace = self.namespace_name = n.namespace(spec.name)
        service_account = n.service_account(spec.name)
        self._job_role(name, namespace, service_account)

        self.runner_access = self._runner_access(name, cluster_sg) if self.cluster else []
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=kubeconfig(
                self.cluster.name if self.cluster else self.cluster_name, endpoint, ca, a.region, a.identity
            ),
            enable_server_side_apply=True,
            # Every Kubernetes object waits for the nodes and for the runner's way to the API.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*self.node_groups.values(), *self.runner_access]
            ),
        )
        # Controllers wait for cluster DNS (coredns) and run on the system nodes of a created cluster.
        placement = training_charts.SYSTEM_PLACEMENT if self.cluster else training_charts.Placement()
        self.controllers = training_charts.install(
            name,
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=list(after)),
            declared=TrainingEquipment(),
            gpus=spec.quota.gpus > 0 or any(p.gpu for p in spec.node_pools),
            placement=placement,
            labels=k8s_labels(n, spec.name),
        )
        self.karpenter = Karpenter(
            f"{name}-karpenter",
            KarpenterArgs(
                cluster_name=self.cluster_name,
                cluster_endpoint=endpoint,
                oidc=self.oidc,
                provider=self.provider,
                pools=list(spec.node_pools),
                subnet_ids=subnets,
                security_group_ids=groups_of(cluster_sg, a.node_security_group_id),
                role_prefix=n.role(spec.name, "").rstrip("-"),
                tags=a.tags,
                labels=k8s_labels(n, spec.name),
                account_id=a.account_id,
                region=a.region,
                partition=a.partition,
                ami_alias=spec.node_image,
                controller_replicas=min(2, spec.system_nodes.count) if self.cluster else 2,
                placement=_chart_placement(placement),
                depends_on=list(after),
                cluster=self.cluster,
            ),
            opts=child,
        )
        self._kubernetes(name, namespace, service_account)
        self.insights: aws.eks.Addon | None = None
        if addons is not None:
            # Metrics on what runs in the cluster (failed training pods alert the platform's topic).
            self.insights = container_insights(
                self,
                name,
                addons,
                cluster=spec.name,
                names=n,
                kms_key_arn=a.kms_key_arn,
                retention_days=a.log_retention_days,
                region=a.region,
                after=[*self.node_groups.values(), *after],
            )

        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": endpoint,
                "oidc_provider_arn": self.oidc.arn,
                "node_groups": sorted(self.node_groups),
                "node_pools": sorted(self.karpenter.node_pools),
                "addons": [addon for addon in (*_BEFORE, *_AFTER)] if self.cluster else [],
                "namespace": namespace,
                "job_role_arn": self.job_role.arn,
                "opt_outs": self.opt_outs,
            }
        )

    def _cluster(self, name: str, opt_out: set[str]) -> None:
        spec, n, a = self.args.spec, self.args.names, self.args
        child = pulumi.ResourceOptions(parent=self)
        role = policies.service_role(
            f"{name}-cluster-role",
            n.role(spec.name, "cluster"),
            "eks.amazonaws.com",
            a.tags,
            child,
            account_id=a.account_id,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=role.name,
            policy_arn=f"arn:{a.partition}:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        logs = "control_plane_logging" not in opt_out
        depends: list[pulumi.Resource] = [attachment]
        if logs:
            # Created first so that EKS writes into a group with retention and encryption.
            depends.append(
                aws.cloudwatch.LogGroup(
                    f"{name}-control-plane-logs",
                    name=n.eks_control_plane_log_group(spec.name),
                    retention_in_days=a.log_retention_days,
                    kms_key_id=a.kms_key_arn,
                    tags=a.tags,
                    opts=child,
                )
            )
        private = "private_endpoint" not in opt_out
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=n.eks_cluster(spec.name),
            version=spec.kubernetes_version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=a.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=not private,
                # EKS's default for a public endpoint is 0.0.0.0/0: only the runner's addresses instead.
                public_access_cidrs=None if private else list(spec.api_access.public_cidrs),
                security_group_ids=[a.node_security_group_id] if a.node_security_group_id else None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=a.kms_key_arn),
            )
            if "secrets_encryption" not in opt_out
            else None,
            enabled_cluster_log_types=LOG_TYPES if logs else [],
            # Every add-on is an EKS managed add-on of this program (cluster_addons), none self-managed.
            bootstrap_self_managed_addons=False,
            deletion_protection=a.protect,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends, protect=a.protect),
        )

    def _runner_access(self, name: str, cluster_sg: pulumi.Input[str]) -> list[aws.vpc.SecurityGroupIngressRule]:
        """Port 443 of the cluster security group (EKS creates it admitting only itself) for the
        deploy runner's security groups and private networks: the private endpoint's way in."""
        access = self.args.spec.api_access
        child = pulumi.ResourceOptions(parent=self)
        # A rule per source: a runner security group (referenced), or a private network (CIDR).
        sources: list[tuple[str, dict[str, str]]] = [
            (group, {"referenced_security_group_id": group}) for group in access.runner_security_groups
        ] + [(cidr.replace("/", "-"), {"cidr_ipv4": cidr}) for cidr in access.runner_cidrs]
        return [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-{label}",
                security_group_id=cluster_sg,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="mlplatform deploy runner to the Kubernetes API",
                tags=self.args.tags,
                opts=child,
                **source,
            )
            for label, source in sources
        ]

    def _node_groups(
        self, name: str, cluster_sg: pulumi.Input[str], subnets: pulumi.Input[list[str]], addons: list[aws.eks.Addon]
    ) -> None:
        """Managed node groups of fixed size: the system nodes (controllers, on a created
        cluster) and the min_nodes always-on nodes of each pool that asks for some. Karpenter
        adds every other node (see karpenter.py)."""
        spec, n, a = self.args.spec, self.args.names, self.args
        child = pulumi.ResourceOptions(parent=self)
        self.node_role = policies.service_role(
            f"{name}-node-role", n.role(spec.name, "nodes"), "ec2.amazonaws.com", a.tags, child
        )
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=self.node_role.name,
                policy_arn=f"arn:{a.partition}:iam::aws:policy/{policy}",
                opts=child,
            )
            for policy in NODE_MANAGED_POLICIES
        ]
        self.node_groups: dict[str, aws.eks.NodeGroup] = {}
        groups = groups_of(cluster_sg, a.node_security_group_id)
        for pool, labels, taint in self._fixed_groups():
            template = aws.ec2.LaunchTemplate(
                f"{name}-{pool.name}-lt",
                name=f"{n.node_group(spec.name, pool.name)}-nodes",
                # IMDSv2 only, one hop: pods cannot read the node role's credentials.
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name="/dev/xvda",
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=pool.disk_gb, volume_type="gp3", encrypted="true", delete_on_termination="true"
                        ),
                    )
                ],
                vpc_security_group_ids=groups,
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=a.tags)
                    for kind in ("instance", "volume")
                ],
                tags=a.tags,
                opts=child,
            )
            cluster_name: pulumi.Input[str] = self.cluster.name if self.cluster else self.cluster_name
            self.node_groups[pool.name] = aws.eks.NodeGroup(
                f"{name}-{pool.name}",
                cluster_name=cluster_name,
                node_group_name=n.node_group(spec.name, pool.name),
                node_role_arn=self.node_role.arn,
                subnet_ids=subnets,
                instance_types=[pool.instance_type],
                ami_type="AL2023_x86_64_NVIDIA" if pool.gpu else "AL2023_x86_64_STANDARD",
                capacity_type="SPOT" if pool.spot else "ON_DEMAND",
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=pool.min_nodes, max_size=pool.min_nodes, desired_size=pool.min_nodes
                ),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                    id=template.id, version=template.latest_version.apply(str)
                ),
                labels=labels,
                taints=[taint] if taint else None,
                tags=a.tags,
                # Nodes become Ready only with pod networking and kube-proxy in place.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, *addons]),
            )

    def _fixed_groups(self) -> list[tuple[NodePool, dict[str, str], aws.eks.NodeGroupTaintArgs | None]]:
        spec = self.args.spec
        out: list[tuple[NodePool, dict[str, str], aws.eks.NodeGroupTaintArgs | None]] = []
        if self.cluster is not None:
            system = NodePool(
                name=training_charts.SYSTEM_POOL,
                instance_type=spec.system_nodes.instance_type,
                min_nodes=spec.system_nodes.count,
                max_nodes=spec.system_nodes.count,
            )
            out.append((system, pool_labels(system), SYSTEM_TAINT))
        for pool in spec.node_pools:
            if pool.min_nodes > 0:
                out.append((pool, pool_labels(pool), GPU_TAINT if pool.gpu else None))
        return out

    def _addon_args(self) -> cluster_addons.AddonArgs | None:
        """EKS managed add-ons only on a cluster the platform creates (an adopted one has its own)."""
        if self.cluster is None:
            return None
        spec, n, a = self.args.spec, self.args.names, self.args
        return cluster_addons.AddonArgs(
            cluster=self.cluster,
            kubernetes_version=spec.kubernetes_version,
            oidc=self.oidc,
            role_prefix=n.role(spec.name, "").rstrip("-"),
            tags=a.tags,
            pinned=dict(spec.addon_versions),
            partition=a.partition,
        )

    def _job_role(self, name: str, namespace: str, service_account: str) -> None:
        """IRSA role of training jobs: only the job service account of the namespace may assume
        it; the platform grants it feature reads and registry writes, nothing else."""
        spec, n, a = self.args.spec, self.args.names, self.args
        issuer = self.oidc.url.apply(lambda u: u.removeprefix("https://"))
        trust = pulumi.Output.all(self.oidc.arn, issuer).apply(
            lambda v: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": v[0]},
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {
                                    f"{v[1]}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                                    f"{v[1]}:aud": "sts.amazonaws.com",
                                }
                            },
                        }
                    ],
                }
            )
        )
        self.job_role = aws.iam.Role(
            f"{name}-job-role",
            name=n.role(spec.name, "jobs"),
            assume_role_policy=trust,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _kubernetes(self, name: str, namespace: str, service_account: str) -> None:
        spec, n = self.args.spec, self.args.names
        opts = pulumi.ResourceOptions(parent=self, provider=self.provider)
        labels = k8s_labels(n, spec.name)
        meta = k8s.meta.v1.ObjectMetaArgs
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=meta(
                name=namespace,
                # The platform's one Pod Security level (components/k8s/pod_security.py).
                labels={**labels, **k8s_common.pod_security_labels(self.args.pod_security_level)},
            ),
            opts=opts,
        )
        ns = self.namespace.metadata.name
        q = spec.quota
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta(name="training", namespace=ns, labels=labels),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                # Requests only: Kueue admits against the same totals, so an admitted job's pods
                # always fit; quota on limits would make every container state limits.
                hard={
                    "requests.nvidia.com/gpu": str(q.gpus),
                    "requests.cpu": str(q.cpu),
                    "requests.memory": f"{q.memory_gb}Gi",
                    "pods": str(q.pods),
                }
            ),
            opts=opts,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta(name="training-defaults", namespace=ns, labels=labels),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                # Requests for containers that state none (so the quota counts them), and no default
                # limit: a default limit below a container's own request would reject it.
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default_request={"cpu": "500m", "memory": "1Gi"},
                        max={"cpu": str(q.cpu), "memory": f"{q.memory_gb}Gi"},
                    )
                ]
            ),
            opts=opts,
        )
        k8s.scheduling.v1.PriorityClass(
            f"{name}-priority",
            metadata=meta(name=n.priority_class(spec.name), labels=labels),
            # Below serving, and never preempting: a training pod waits rather than evict anything.
            value=k8s_common.TRAINING_PRIORITY,
            global_default=False,
            preemption_policy="Never",
            description=f"Training jobs of {n.prefix}: queue ahead of best-effort pods, never preempt",
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-jobs-sa",
            metadata=meta(
                name=service_account,
                namespace=ns,
                labels=labels,
                annotations={"eks.amazonaws.com/role-arn": self.job_role.arn},
            ),
            opts=opts,
        )
        self.queues = TrainingQueues(
            f"{name}-queues",
            TrainingQueuesArgs(
                namespace=namespace,
                quota=q,
                pools=list(spec.node_pools),
                labels=labels,
                depends_on=[self.namespace, *self.controllers.depends("kueue")],
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        self.runtimes = TrainingRuntimes(
            f"{name}-runtimes",
            TrainingRuntimesArgs(
                context=RuntimeContext(
                    namespace=namespace,
                    service_account=service_account,
                    priority_class=n.priority_class(spec.name),
                    gpu=q.gpus > 0,
                    env=list(self.args.tracking_env),
                    labels=labels,
                ),
                depends_on=[self.namespace, self.service_account, *self.controllers.depends("trainer")],
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
