"""EKS managed add-ons of a cluster the platform creates, and IRSA roles for cluster controllers.

The cluster is created without EKS's self-managed bootstrap add-ons
(`bootstrap_self_managed_addons=False`, as terraform-aws-eks does), so every add-on is managed
here, in the order terraform-aws-eks uses: what a node needs to become Ready (vpc-cni with
network-policy enforcement, kube-proxy) and the Pod Identity agent before the node groups, the
Deployments (coredns, the EBS CSI driver, metrics-server) after them.

Versions: `TrainingCluster.addon_versions` pins one; otherwise EKS's default version of the add-on
for the cluster's Kubernetes version, asked of DescribeAddonVersions at deploy time
(`aws.eks.get_addon_version`, as terraform-aws-eks's `aws_eks_addon_version`) and recorded in the
stack's state, so `pulumi preview` shows any change before it is made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlplatform.components import charts

# The EBS CSI driver's controller service account (its EKS add-on creates it).
EBS_CSI_NAMESPACE = "kube-system"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
# The AWS managed policy the EBS CSI driver documentation attaches to its role.
EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
# vpc-cni's network policy agent enforces NetworkPolicies (off by default in the add-on).
VPC_CNI_CONFIGURATION = {"enableNetworkPolicy": "true"}


def irsa_trust(oidc: aws.iam.OpenIdConnectProvider, namespace: str, service_account: str) -> pulumi.Output[str]:
    """Trust policy for IRSA: only `service_account` in `namespace`, through the cluster's OIDC
    provider, with the STS audience."""
    issuer = oidc.url.apply(lambda u: u.removeprefix("https://"))
    return pulumi.Output.all(oidc.arn, issuer).apply(
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


@dataclass
class AddonArgs:
    cluster: aws.eks.Cluster
    kubernetes_version: str
    oidc: aws.iam.OpenIdConnectProvider
    role_prefix: str  # physical role names: <prefix>-<purpose>
    tags: dict[str, str]
    pinned: dict[str, str]
    partition: str = "aws"


def _version(args: AddonArgs, addon: str, parent: pulumi.Resource) -> pulumi.Input[str]:
    if addon in args.pinned:
        return args.pinned[addon]
    found = aws.eks.get_addon_version_output(
        addon_name=addon,
        kubernetes_version=args.kubernetes_version,
        most_recent=False,  # EKS's default version for this Kubernetes version
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
    return found.version


def _addon(
    name: str,
    addon: str,
    args: AddonArgs,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource],
    **extra: object,
) -> aws.eks.Addon:
    return aws.eks.Addon(
        f"{name}-addon-{addon}",
        cluster_name=args.cluster.name,
        addon_name=addon,
        addon_version=_version(args, addon, parent),
        # The cluster has no self-managed copies to keep; an update overwrites manual edits.
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags=args.tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
        **extra,
    )


def before_nodes(name: str, args: AddonArgs, parent: pulumi.Resource) -> list[aws.eks.Addon]:
    """vpc-cni (NetworkPolicy enforcement on), kube-proxy and eks-pod-identity-agent: the node
    groups wait for them, or their nodes would never become Ready."""
    out = []
    for addon in charts.ADDONS_BEFORE_NODES:
        extra: dict[str, object] = {}
        if addon == "vpc-cni":
            extra["configuration_values"] = json.dumps(VPC_CNI_CONFIGURATION)
        out.append(_addon(name, addon, args, parent, [], **extra))
    return out


def after_nodes(
    name: str, args: AddonArgs, parent: pulumi.Resource, nodes: list[pulumi.Resource]
) -> list[aws.eks.Addon]:
    """coredns, aws-ebs-csi-driver (with its IRSA role) and metrics-server: Deployments, which
    need nodes to become ACTIVE."""
    child = pulumi.ResourceOptions(parent=parent)
    ebs_role = aws.iam.Role(
        f"{name}-ebs-csi-role",
        name=f"{args.role_prefix}-ebs-csi",
        assume_role_policy=irsa_trust(args.oidc, EBS_CSI_NAMESPACE, EBS_CSI_SERVICE_ACCOUNT),
        tags=args.tags,
        opts=child,
    )
    ebs_policy = aws.iam.RolePolicyAttachment(
        f"{name}-ebs-csi-policy",
        role=ebs_role.name,
        policy_arn=f"arn:{args.partition}:iam::aws:policy/{EBS_CSI_POLICY}",
        opts=child,
    )
    out = []
    for addon in charts.ADDONS_AFTER_NODES:
        extra: dict[str, object] = {}
        after = list(nodes)
        if addon == "aws-ebs-csi-driver":
            extra["service_account_role_arn"] = ebs_role.arn
            after.append(ebs_policy)
        out.append(_addon(name, addon, args, parent, after, **extra))
    return out
