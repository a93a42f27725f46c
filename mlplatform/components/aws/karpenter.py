"""Karpenter on an EKS cluster the platform runs: nodes from zero for every node pool.

As one unit, like terraform-aws-eks's `modules/karpenter`: the controller's IAM role (IRSA, the
policy of Karpenter's getting-started CloudFormation template for v1.14, scoped to this
cluster), the node role with its EKS access entry (type EC2_LINUX; Karpenter creates the
instance profile from it), the SQS interruption queue with the EventBridge rules that feed it
(spot interruption, rebalance, instance state change, scheduled health events, capacity
reservation interruption), the pinned Helm release, and a NodePool plus EC2NodeClass per node
pool (`mlplatform.components.k8s.karpenter_pools`).

Why Karpenter rather than cluster-autoscaler: it provisions straight from pending pods' needs
(GPU pools scale from zero without node-template tags), handles spot interruptions through the
queue, and removes empty nodes; and the same NodePools serve node pools on an existing EKS
cluster that runs Karpenter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from mlplatform.components import charts
from mlplatform.components.aws import policies
from mlplatform.components.aws.cluster_addons import irsa_trust
from mlplatform.components.k8s import karpenter_pools
from mlplatform.spec.training_cluster import NodePool

SERVICE_ACCOUNT = "karpenter"  # the chart's service account (release name)
# The node role's managed policies, as in Karpenter's getting-started template, less
# AmazonSSMManagedInstanceCore (shell access to nodes is not something the platform grants).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly")
# EventBridge rules feeding the interruption queue: (rule suffix, source, detail-type).
INTERRUPTION_EVENTS = (
    ("health", "aws.health", "AWS Health Event"),
    ("spot", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("state-change", "aws.ec2", "EC2 Instance State-change Notification"),
    ("capacity-reservation", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
)


def controller_statements(
    cluster: str,
    node_role_arn: pulumi.Input[str],
    queue_arn: pulumi.Input[str],
    account: str,
    region: str,
    partition: str,
) -> list[dict[str, Any]]:
    """The controller policy of Karpenter's getting-started template (v1.14), statement by statement,
    except its zonal-shift statement (arc-zonal-shift:GetManagedResource), left out on purpose: the
    clusters are created without ARC zonal shift (no zonal_shift_config), so there is none to read."""
    ec2 = f"arn:{partition}:ec2:{region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned"}
    request_owned = {
        f"aws:RequestTag/kubernetes.io/cluster/{cluster}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": cluster,
    }
    launched = [
        f"{ec2}:*:{kind}/*"
        for kind in ("fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request")
    ]
    profiles = f"arn:{partition}:iam::{account}:instance-profile/*"
    profile_tags = {
        f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned",
        "aws:ResourceTag/topology.kubernetes.io/region": region,
    }
    profile_request = {**request_owned, "aws:RequestTag/topology.kubernetes.io/region": region}
    return [
        {
            "Sid": "AllowScopedEC2InstanceAccessActions",
            "Effect": "Allow",
            "Resource": [
                f"{ec2}::image/*",
                f"{ec2}::snapshot/*",
                f"{ec2}:*:security-group/*",
                f"{ec2}:*:subnet/*",
                f"{ec2}:*:capacity-reservation/*",
                f"{ec2}:*:placement-group/*",
            ],
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
        },
        {
            "Sid": "AllowScopedEC2LaunchTemplateAccessActions",
            "Effect": "Allow",
            "Resource": f"{ec2}:*:launch-template/*",
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
            "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
        },
        {
            "Sid": "AllowScopedEC2InstanceActionsWithTags",
            "Effect": "Allow",
            "Resource": launched,
            "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            "Condition": {"StringEquals": request_owned, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}},
        },
        {
            "Sid": "AllowScopedResourceCreationTagging",
            "Effect": "Allow",
            "Resource": launched,
            "Action": "ec2:CreateTags",
            "Condition": {
                "StringEquals": {
                    **request_owned,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        },
        {
            "Sid": "AllowScopedResourceTagging",
            "Effect": "Allow",
            "Resource": f"{ec2}:*:instance/*",
            "Action": "ec2:CreateTags",
            "Condition": {
                "StringEquals": owned,
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        },
        {
            "Sid": "AllowScopedDeletion",
            "Effect": "Allow",
            "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
            "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
        },
        {
            "Sid": "AllowPassingInstanceRole",
            "Effect": "Allow",
            "Resource": node_role_arn,
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
        },
        {
            "Sid": "AllowScopedInstanceProfileCreationActions",
            "Effect": "Allow",
            "Resource": profiles,
            "Action": ["iam:CreateInstanceProfile"],
            "Condition": {
                "StringEquals": profile_request,
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        },
        {
            "Sid": "AllowScopedInstanceProfileTagActions",
            "Effect": "Allow",
            "Resource": profiles,
            "Action": ["iam:TagInstanceProfile"],
            "Condition": {
                "StringEquals": {**profile_tags, **profile_request},
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                },
            },
        },
        {
            "Sid": "AllowScopedInstanceProfileActions",
            "Effect": "Allow",
            "Resource": profiles,
            "Action": [
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            ],
            "Condition": {
                "StringEquals": profile_tags,
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        },
        {
            "Sid": "AllowAPIServerEndpointDiscovery",
            "Effect": "Allow",
            "Resource": f"arn:{partition}:eks:{region}:{account}:cluster/{cluster}",
            "Action": "eks:DescribeCluster",
        },
        {
            "Sid": "AllowInterruptionQueueActions",
            "Effect": "Allow",
            "Resource": queue_arn,
            "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
        },
        {
            "Sid": "AllowRegionalReadActions",
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
        },
        {
            "Sid": "AllowSSMReadActions",
            "Effect": "Allow",
            "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*",
            "Action": "ssm:GetParameter",
        },
        {"Sid": "AllowPricingReadActions", "Effect": "Allow", "Resource": "*", "Action": "pricing:GetProducts"},
        {
            "Sid": "AllowUnscopedInstanceProfileListAction",
            "Effect": "Allow",
            "Resource": "*",
            "Action": "iam:ListInstanceProfiles",
        },
        {
            "Sid": "AllowInstanceProfileReadActions",
            "Effect": "Allow",
            "Resource": profiles,
            "Action": "iam:GetInstanceProfile",
        },
    ]


def queue_policy(queue_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """EventBridge (and SQS) may send to the queue; nothing without TLS (the template's policy)."""
    return policies.document(
        {
            "Sid": "EC2InterruptionPolicy",
            "Effect": "Allow",
            "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {
            "Sid": "DenyHTTP",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


@dataclass
class KarpenterArgs:
    cluster_name: str
    cluster_endpoint: pulumi.Input[str]
    oidc: aws.iam.OpenIdConnectProvider
    provider: k8s.Provider
    pools: list[NodePool]
    subnet_ids: pulumi.Input[list[str]]
    security_group_ids: list[pulumi.Input[str]]
    role_prefix: str
    tags: dict[str, str]
    labels: dict[str, str]
    account_id: str
    region: str
    partition: str = "aws"
    ami_alias: str = "al2023@latest"
    controller_replicas: int = 2
    placement: dict[str, Any] = field(default_factory=dict)  # nodeSelector/tolerations of the controller
    depends_on: list[pulumi.Resource] = field(default_factory=list)  # what the release waits for
    # The cluster when this run creates it: CreateAccessEntry names it by `cluster_name`.
    cluster: pulumi.Resource | None = None


class Karpenter(pulumi.ComponentResource):
    """Outputs: `node_role_arn`, `interruption_queue`, `node_pools`."""

    def __init__(self, name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:Karpenter", name, None, opts)
        a = args
        child = pulumi.ResourceOptions(parent=self)
        self.node_role = policies.service_role(
            f"{name}-node-role", f"{a.role_prefix}-karpenter-nodes", "ec2.amazonaws.com", a.tags, child
        )
        node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=self.node_role.name,
                policy_arn=f"arn:{a.partition}:iam::aws:policy/{policy}",
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        # Nodes join the cluster through an access entry (the cluster authenticates with the API).
        access = aws.eks.AccessEntry(
            f"{name}-node-access",
            cluster_name=a.cluster_name,
            principal_arn=self.node_role.arn,
            type="EC2_LINUX",
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[a.cluster] if a.cluster else []),
        )
        self.queue = aws.sqs.Queue(
            f"{name}-interruptions",
            name=f"{a.cluster_name}-karpenter",
            message_retention_seconds=300,
            sqs_managed_sse_enabled=True,
            tags=a.tags,
            opts=child,
        )
        queue_access = aws.sqs.QueuePolicy(
            f"{name}-interruptions-policy", queue_url=self.queue.url, policy=queue_policy(self.queue.arn), opts=child
        )
        for suffix, source, detail in INTERRUPTION_EVENTS:
            rule = aws.cloudwatch.EventRule(
                f"{name}-{suffix}",
                name=f"{a.cluster_name}-karpenter-{suffix}",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail]}),
                tags=a.tags,
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{suffix}-target",
                rule=rule.name,
                target_id="KarpenterInterruptionQueueTarget",
                arn=self.queue.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[queue_access]),
            )
        self.controller_role = aws.iam.Role(
            f"{name}-controller-role",
            name=f"{a.role_prefix}-karpenter",
            assume_role_policy=irsa_trust(a.oidc, charts.KARPENTER.namespace, SERVICE_ACCOUNT),
            tags=a.tags,
            opts=child,
        )
        controller_policy = aws.iam.RolePolicy(
            f"{name}-controller-policy",
            role=self.controller_role.id,
            policy=policies.document(
                *controller_statements(
                    a.cluster_name, self.node_role.arn, self.queue.arn, a.account_id, a.region, a.partition
                )
            ),
            opts=child,
        )
        image, _, digest = charts.KARPENTER_IMAGE.partition("@")
        repository, _, tag = image.rpartition(":")
        on_cluster = pulumi.ResourceOptions(parent=self, provider=a.provider)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=charts.KARPENTER.release,
            chart=charts.KARPENTER.chart,
            version=charts.KARPENTER.version,
            namespace=charts.KARPENTER.namespace,
            values={
                "settings": {
                    "clusterName": a.cluster_name,
                    "clusterEndpoint": a.cluster_endpoint,
                    "interruptionQueue": self.queue.name,
                },
                "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": self.controller_role.arn}},
                "replicas": a.controller_replicas,
                "controller": {
                    "image": {"repository": repository, "tag": tag, "digest": digest},
                    # The Karpenter docs' sizing for the controller.
                    "resources": {
                        "requests": {"cpu": "1", "memory": "1Gi"},
                        "limits": {"cpu": "1", "memory": "1Gi"},
                    },
                },
                **a.placement,
            },
            atomic=True,
            timeout=900,
            opts=pulumi.ResourceOptions.merge(
                on_cluster,
                pulumi.ResourceOptions(depends_on=[*a.depends_on, controller_policy, access, *node_policies]),
            ),
        )
        self.node_pools = karpenter_pools.create(
            name,
            pools=a.pools,
            prefix=a.cluster_name,
            node_class=karpenter_pools.NodeClassArgs(
                role=self.node_role.name,
                subnets=karpenter_pools.by_ids(a.subnet_ids),  # type: ignore[arg-type]
                security_groups=karpenter_pools.by_ids(pulumi.Output.all(*a.security_group_ids)),  # type: ignore[arg-type]
                ami_alias=a.ami_alias,
                tags=a.tags,
            ),
            labels=a.labels,
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[self.release])),
        )
        self.register_outputs(
            {
                "node_role_arn": self.node_role.arn,
                "interruption_queue": self.queue.name,
                "node_pools": sorted(self.node_pools),
            }
        )
