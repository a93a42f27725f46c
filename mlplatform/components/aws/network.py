"""Network: where SageMaker endpoints and EKS nodes run.

Either the platform's own VPC (private subnets in 2-3 zones, NAT per zone or a single one, VPC
endpoints so that AWS API traffic stays in the VPC, flow logs to a KMS-encrypted log group, a
default security group with no rules) or an existing VPC named in the blueprint, which is used
as it is. Both get the security groups for interface endpoints, serving and training nodes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.spec.network import Network as NetworkSpec

# Interface endpoints every private subnet needs to reach AWS APIs without the internet.
INTERFACE_ENDPOINTS = ("sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr", "sts", "monitoring", "logs")


@dataclass
class NetworkArgs:
    spec: NetworkSpec
    names: naming.Names
    tags: dict[str, str]
    region: str
    account_id: str
    kms_key_arn: pulumi.Input[str]
    availability_zones: list[str]
    partition: str = "aws"


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    vpc_cidr: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:Network", name, None, opts)
        self._name_ = name
        self.args = args
        self.created = args.spec.vpc_id is None
        if self.created:
            self._new_vpc(name)
        else:
            vpc = aws.ec2.get_vpc_output(id=args.spec.vpc_id, opts=pulumi.InvokeOutputOptions(parent=self))
            self.vpc_id = pulumi.Output.from_input(str(args.spec.vpc_id))
            self.vpc_cidr = vpc.cidr_block
            self.private_subnet_ids = [pulumi.Output.from_input(s) for s in args.spec.private_subnet_ids]
        self._security_groups(name)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "created": self.created,
                "private_subnet_ids": self.private_subnet_ids,
                "endpoints_security_group_id": self.endpoints_sg.id,
                "serving_security_group_id": self.serving_sg.id,
                "nodes_security_group_id": self.nodes_sg.id,
            }
        )

    def _tags(self, label: str) -> dict[str, str]:
        return {**self.args.tags, "Name": label}

    def _new_vpc(self, name: str) -> None:
        a, n = self.args, self.args.names
        child = pulumi.ResourceOptions(parent=self)
        zones = a.availability_zones[: a.spec.availability_zones]
        blocks = list(ipaddress.ip_network(a.spec.cidr).subnets(prefixlen_diff=3))
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=a.spec.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self._tags(n.vpc()),
            opts=child,
        )
        self.vpc_id, self.vpc_cidr = vpc.id, vpc.cidr_block
        # No rules: nothing may use the default security group by accident (CIS 5.4).
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, tags=self._tags(n.vpc()), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=self._tags(n.vpc()), opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags=self._tags(f"{n.vpc()}-public"), opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        nats: list[aws.ec2.NatGateway] = []
        private_rts: list[aws.ec2.RouteTable] = []
        self.private_subnet_ids = []
        for i, zone in enumerate(zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=str(blocks[4 + i]),
                map_public_ip_on_launch=False,
                tags={**self._tags(f"{n.vpc()}-public-{zone}"), "kubernetes.io/role/elb": "1"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}-rta", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            if i == 0 or not a.spec.single_nat_gateway:
                eip = aws.ec2.Eip(
                    f"{name}-nat-{i}-eip", domain="vpc", tags=self._tags(f"{n.vpc()}-nat-{zone}"), opts=child
                )
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{i}",
                        allocation_id=eip.id,
                        subnet_id=public.id,
                        tags=self._tags(f"{n.vpc()}-nat-{zone}"),
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
            private = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=str(blocks[i]),
                map_public_ip_on_launch=False,
                tags={**self._tags(f"{n.vpc()}-private-{zone}"), "kubernetes.io/role/internal-elb": "1"},
                opts=child,
            )
            rt = aws.ec2.RouteTable(
                f"{name}-private-{i}-rt", vpc_id=vpc.id, tags=self._tags(f"{n.vpc()}-private-{zone}"), opts=child
            )
            aws.ec2.Route(
                f"{name}-private-{i}-default",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[-1].id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}-rta", subnet_id=private.id, route_table_id=rt.id, opts=child
            )
            private_rts.append(rt)
            self.private_subnet_ids.append(private.id)
        self.nat_gateway_count = len(nats)

        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-vpce-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{a.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts],
            tags=self._tags(f"{n.vpc()}-s3"),
            opts=child,
        )
        self._interface_endpoints_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            name=n.security_group("vpc-endpoints"),
            description="Interface VPC endpoints: HTTPS from inside the VPC",
            vpc_id=vpc.id,
            tags=self._tags(n.security_group("vpc-endpoints")),
            opts=child,
        )
        for service in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-vpce-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{a.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[self._interface_endpoints_sg.id],
                tags=self._tags(f"{n.vpc()}-{service}"),
                opts=child,
            )

        flow_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=n.flow_logs_group(),
            retention_in_days=a.spec.flow_logs_retention_days,
            kms_key_id=a.kms_key_arn,
            tags=a.tags,
            opts=child,
        )
        flow_role = policies.service_role(
            f"{name}-flow-logs-role",
            n.role("network", "flow-logs"),
            "vpc-flow-logs.amazonaws.com",
            a.tags,
            child,
            account_id=a.account_id,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=flow_role.id,
            policy=policies.document(
                policies.allow(
                    ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [flow_group.arn, pulumi.Output.concat(flow_group.arn, ":*")],
                    sid="WriteFlowLogs",
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=flow_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
            tags=a.tags,
            opts=child,
        )

    def _security_groups(self, name: str) -> None:
        a, n = self.args, self.args.names
        child = pulumi.ResourceOptions(parent=self)

        def group(suffix: str, purpose: str, description: str) -> aws.ec2.SecurityGroup:
            return aws.ec2.SecurityGroup(
                f"{name}-{suffix}",
                name=n.security_group(purpose),
                description=description,
                vpc_id=self.vpc_id,
                tags=self._tags(n.security_group(purpose)),
                opts=child,
            )

        def rule(
            kind: str, suffix: str, sg: aws.ec2.SecurityGroup, description: str, **kwargs: pulumi.Input[str] | int
        ) -> None:
            cls = aws.vpc.SecurityGroupIngressRule if kind == "in" else aws.vpc.SecurityGroupEgressRule
            cls(f"{name}-{suffix}", security_group_id=sg.id, description=description, tags=a.tags, opts=child, **kwargs)

        self.endpoints_sg = getattr(self, "_interface_endpoints_sg", None) or group(
            "endpoints-sg", "vpc-endpoints", "Interface VPC endpoints: HTTPS from inside the VPC"
        )
        rule(
            "in",
            "endpoints-https-in",
            self.endpoints_sg,
            "HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=self.vpc_cidr,
        )

        self.serving_sg = group("serving-sg", "serving", "SageMaker endpoints: HTTPS to AWS APIs only")
        rule(
            "out",
            "serving-https-vpc",
            self.serving_sg,
            "HTTPS to VPC endpoints",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=self.vpc_cidr,
        )
        if self.created:
            rule(
                "out",
                "serving-https-s3",
                self.serving_sg,
                "HTTPS to S3 (gateway endpoint)",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                prefix_list_id=self.s3_endpoint.prefix_list_id,
            )

        self.nodes_sg = group("nodes-sg", "training-nodes", "EKS training nodes")
        rule(
            "in",
            "nodes-self-in",
            self.nodes_sg,
            "Node to node (pods, NCCL)",
            ip_protocol="-1",
            referenced_security_group_id=self.nodes_sg.id,
        )
        rule(
            "out",
            "nodes-self-out",
            self.nodes_sg,
            "Node to node (pods, NCCL)",
            ip_protocol="-1",
            referenced_security_group_id=self.nodes_sg.id,
        )
        rule(
            "out",
            "nodes-https-out",
            self.nodes_sg,
            "HTTPS: AWS APIs, image registries",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
        )
        rule(
            "out",
            "nodes-dns-udp",
            self.nodes_sg,
            "DNS",
            ip_protocol="udp",
            from_port=53,
            to_port=53,
            cidr_ipv4=self.vpc_cidr,
        )
        rule(
            "out",
            "nodes-dns-tcp",
            self.nodes_sg,
            "DNS",
            ip_protocol="tcp",
            from_port=53,
            to_port=53,
            cidr_ipv4=self.vpc_cidr,
        )
