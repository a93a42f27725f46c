"""Pulumi SDK mocks that answer like AWS and Kubernetes would, with obvious placeholders.

Outputs only the cloud can compute (ids, ARNs, endpoints) come back shaped like the real
thing but unmistakably fake: the documentation account 123456789012, ids that start with
`mock-`, hosts under `.mock.invalid`. Inputs pass through unchanged, so a plan shows exactly
what the program asked for.
"""

from __future__ import annotations

import base64
from typing import Any

import pulumi

from mlplatform.naming import ACCOUNT_ID_PLACEHOLDER

ACCOUNT = ACCOUNT_ID_PLACEHOLDER


class PlaceholderMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str = "us-east-1", account: str = ACCOUNT) -> None:
        self.region = region
        self.account = account

    # --- invokes -------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token, a = args.token, args.args
        r = self.region
        answers: dict[str, dict[str, Any]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": self.account,
                "arn": f"arn:aws:iam::{self.account}:user/mock-deployer",
                "userId": "MOCKUSERID",
                "id": self.account,
            },
            "aws:index/getRegion:getRegion": {
                "region": r,
                "name": r,
                "id": r,
                "description": f"mock region {r}",
                "endpoint": f"ec2.{r}.amazonaws.com",
            },
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            },
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "names": [f"{r}a", f"{r}b", f"{r}c"],
                "zoneIds": [f"mock-az{i}" for i in (1, 2, 3)],
                "id": r,
                "groupNames": [r],
            },
            "aws:eks/getCluster:getCluster": {
                "name": a.get("name", "mock"),
                "arn": f"arn:aws:eks:{r}:{self.account}:cluster/{a.get('name', 'mock')}",
                "endpoint": f"https://{a.get('name', 'mock')}.eks.mock.invalid",
                "certificateAuthorities": [{"data": _MOCK_CA}],
                "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{r}.mock.invalid/id/MOCK"}]}],
                "vpcConfig": {"vpcId": "vpc-0mock", "subnetIds": [], "securityGroupIds": []},
                "version": "1.33",
                "id": a.get("name", "mock"),
            },
            # The add-on version EKS would pick at deploy time; a placeholder says so.
            "aws:eks/getAddonVersion:getAddonVersion": {
                "addonName": a.get("addonName", "mock"),
                "kubernetesVersion": a.get("kubernetesVersion", "mock"),
                "version": f"mock-eks-default-for-{a.get('kubernetesVersion', 'mock')}",
                "id": a.get("addonName", "mock"),
            },
            "aws:ec2/getVpc:getVpc": {
                "id": a.get("id", "vpc-0mock"),
                "arn": f"arn:aws:ec2:{r}:{self.account}:vpc/{a.get('id', 'vpc-0mock')}",
                "cidrBlock": "10.255.0.0/16",
            },
            "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage": {
                "id": "mock",
                "repositoryName": a.get("repositoryName", "mock"),
                "registryId": "000000000000",
                "registryPath": f"000000000000.dkr.ecr.{r}.amazonaws.com/{a.get('repositoryName', 'mock')}:mock",
            },
        }
        return answers.get(token, {})

    # --- resources -----------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if args.resource_id:  # a `get`/import of an existing resource
            return args.resource_id, inputs
        outputs = dict(inputs)
        if typ.startswith("pulumi:providers:"):
            return f"mock-provider-{name}", outputs
        if typ.startswith("aws:"):
            return self._aws(typ, name, outputs)
        if typ.startswith("kubernetes:"):
            return self._kubernetes(name, outputs)
        if typ.startswith("random:"):
            # pulumi-random computes `result` at deploy time; a visible placeholder stands in.
            outputs.setdefault("result", f"mock-random-{name}")
            return f"mock-{name}", outputs
        return f"mock-{name}", outputs

    def _aws(self, typ: str, name: str, out: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        module = typ.split(":")[1].split("/")[0]
        kind = typ.rsplit(":", 1)[-1]
        physical = str(
            out.get("name") or out.get("bucket") or out.get("clusterName") or out.get("pipelineName") or name
        )
        arn = f"arn:aws:{module}:{self.region}:{self.account}:{kind.lower()}/{physical}"
        ident = physical
        if module == "s3":
            bucket = str(out.get("bucket") or name)
            out.setdefault("bucket", bucket)
            arn = f"arn:aws:s3:::{bucket}"
            out.setdefault("bucketDomainName", f"{bucket}.s3.amazonaws.com")
            out.setdefault("bucketRegionalDomainName", f"{bucket}.s3.{self.region}.amazonaws.com")
            ident = bucket
        elif module == "iam":
            path = {"Role": "role", "Policy": "policy", "User": "user", "InstanceProfile": "instance-profile"}
            arn = f"arn:aws:iam::{self.account}:{path.get(kind, kind.lower())}/{physical}"
            if kind == "OpenIdConnectProvider":
                host = str(out.get("url") or "oidc.mock.invalid").removeprefix("https://")
                arn = f"arn:aws:iam::{self.account}:oidc-provider/{host}"
            out.setdefault("uniqueId", f"MOCK{abs(hash(physical)) % 10**12:012d}")
        elif module == "kms" and kind == "Key":
            ident = f"mock-key-{name}"
            arn = f"arn:aws:kms:{self.region}:{self.account}:key/{ident}"
            out.setdefault("keyId", ident)
        elif module == "ec2":
            prefix = {
                "Vpc": "vpc",
                "Subnet": "subnet",
                "SecurityGroup": "sg",
                "NatGateway": "nat",
                "InternetGateway": "igw",
                "RouteTable": "rtb",
                "Eip": "eipalloc",
                "VpcEndpoint": "vpce",
                "FlowLog": "fl",
            }.get(kind, kind.lower())
            ident = f"{prefix}-mock-{name}"
            arn = f"arn:aws:ec2:{self.region}:{self.account}:{prefix}/{ident}"
            if kind == "LaunchTemplate":
                out.setdefault("latestVersion", 1)
        elif module == "eks" and kind == "Cluster":
            out.setdefault("endpoint", f"https://{physical}.eks.mock.invalid")
            out.setdefault("certificateAuthority", {"data": _MOCK_CA})
            out.setdefault(
                "identities", [{"oidcs": [{"issuer": f"https://oidc.eks.{self.region}.mock.invalid/id/MOCK"}]}]
            )
            out.setdefault("version", out.get("version") or "1.33")
            vpc_config = dict(out.get("vpcConfig") or {})
            vpc_config.setdefault("clusterSecurityGroupId", f"sg-mock-{name}-cluster")
            out["vpcConfig"] = vpc_config
        elif module == "sagemaker" and kind == "MlflowTrackingServer":
            server = str(out.get("trackingServerName") or name)
            arn = f"arn:aws:sagemaker:{self.region}:{self.account}:mlflow-tracking-server/{server}"
            out.setdefault("trackingServerUrl", f"https://{server}.mlflow.mock.invalid")
        elif module == "rds" and kind == "Instance":
            ident = str(out.get("identifier") or name)
            arn = f"arn:aws:rds:{self.region}:{self.account}:db:{ident}"
            out.setdefault("address", f"{ident}.mock.invalid")
            out.setdefault("port", 5432)
            out.setdefault(
                "masterUserSecrets",
                [{"secretArn": f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:rds!db-mock-{ident}"}],
            )
        elif module == "sns" and kind == "Topic":
            arn = f"arn:aws:sns:{self.region}:{self.account}:{physical}"
        elif module == "dynamodb" and kind == "Table":
            arn = f"arn:aws:dynamodb:{self.region}:{self.account}:table/{physical}"
        elif module == "cloudwatch" and kind == "LogGroup":
            arn = f"arn:aws:logs:{self.region}:{self.account}:log-group:{physical}"
        out.setdefault("arn", arn)
        out.setdefault("name", physical)
        return ident, out

    def _kubernetes(self, name: str, out: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        meta = dict(out.get("metadata") or {})
        meta.setdefault("name", name)
        out["metadata"] = meta
        ns = meta.get("namespace")
        return (f"{ns}/{meta['name']}" if ns else str(meta["name"])), out


# A syntactically valid, obviously fake certificate authority blob.
_MOCK_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n").decode()
