"""The CrossGuard adapter, with stand-ins for pulumi-policy's argument objects (constructing
the real PolicyPack starts a server and blocks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplatform.policy import RULES
from mlplatform.policy.crossguard import known, policies, to_planned, validate_resource, validate_stack

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Args:
    resource_type: str
    props: Any
    urn: str
    name: str
    dependencies: list[Any] = field(default_factory=list)
    parent: Any = None
    provider: Any = None


class UnknownValueError(Exception):
    """Stands in for pulumi_policy.proxy.UnknownValueError (matched by name)."""


class Proxy(dict):
    """Like pulumi-policy's unknown-checking proxy: reading an unknown value raises."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if value == "<unknown>":
            raise UnknownValueError(key)
        return value


def test_known_drops_unknown_values() -> None:
    assert known(Proxy(a=1, b="<unknown>", c=[Proxy(d="<unknown>", e=2)])) == {"a": 1, "c": [{"e": 2}]}


def test_to_planned() -> None:
    dep = Args("aws:kms/key:Key", {}, "urn:key", "key")
    args = Args("aws:sns/topic:Topic", Proxy(name="alerts"), "urn:topic", "alerts", [dep], parent=dep)
    planned = to_planned(args)
    assert (planned.type, planned.name, planned.urn, planned.parent, planned.dependencies) == (
        "aws:sns/topic:Topic",
        "alerts",
        "urn:topic",
        "urn:key",
        ["urn:key"],
    )
    assert planned.inputs == {"name": "alerts"}


def test_resource_policy_reports_rule_messages() -> None:
    reported: list[tuple[str, str | None]] = []
    args = Args("aws:sns/topic:Topic", Proxy(name="alerts", kmsMasterKeyId="<unknown>"), "urn:topic", "alerts")
    validate_resource(RULES["MLP-SNS-001"], args, lambda m, u: reported.append((m, u)))
    assert reported == [
        ("MLP-SNS-001: topic 'alerts' is not encrypted: set kms_master_key_id to the platform key", None)
    ]
    ok = Args("aws:sns/topic:Topic", Proxy(name="alerts", kmsMasterKeyId="arn:k"), "urn:topic", "alerts")
    reported.clear()
    validate_resource(RULES["MLP-SNS-001"], ok, lambda m, u: reported.append((m, u)))
    assert reported == []


@dataclass
class StackArgs:
    resources: list[Args]


def test_stack_policy_finds_companions_by_dependency() -> None:
    bucket = Args("aws:s3/bucket:Bucket", Proxy(bucket="data"), "urn:bucket", "data")
    versioning = Args(
        "aws:s3/bucketVersioning:BucketVersioning",
        Proxy(bucket="<unknown>", versioningConfiguration={"status": "Enabled"}),
        "urn:v",
        "data-versioning",
        [bucket],
    )
    reported: list[tuple[str, str | None]] = []
    validate_stack(RULES["MLP-S3-002"], StackArgs([bucket, versioning]), lambda m, u: reported.append((m, u)))
    assert reported == []
    validate_stack(RULES["MLP-S3-002"], StackArgs([bucket]), lambda m, u: reported.append((m, u)))
    assert reported == [
        ("MLP-S3-002: bucket 'data' has no versioning: add a BucketVersioning with status 'Enabled'", "urn:bucket")
    ]


def test_policies_one_per_rule_with_enforcement_by_severity() -> None:
    made = policies(
        lambda **kw: ("resource", kw), lambda **kw: ("stack", kw), mandatory="MANDATORY", advisory="ADVISORY"
    )
    assert [kw["name"] for _, kw in made] == sorted(RULES)
    by_name = {kw["name"]: (kind, kw) for kind, kw in made}
    assert by_name["MLP-S3-001"][0] == "stack"
    assert by_name["MLP-SNS-001"][0] == "resource"
    assert by_name["MLP-LOG-001"][1]["enforcement_level"] == "ADVISORY"
    assert by_name["MLP-SNS-001"][1]["enforcement_level"] == "MANDATORY"
    assert by_name["MLP-SNS-001"][1]["description"] == "Encrypted with a KMS key (Checkov CKV_AWS_26)."


def test_policies_construct_with_pulumi_policy_classes() -> None:
    import pulumi_policy  # a test dependency, as the policy pack's requirements name it

    made = policies(
        pulumi_policy.ResourceValidationPolicy,
        pulumi_policy.StackValidationPolicy,
        pulumi_policy.EnforcementLevel.MANDATORY,
        pulumi_policy.EnforcementLevel.ADVISORY,
    )
    assert len(made) == len(RULES)
    assert all(p.name.startswith("MLP-") for p in made)


def test_pack_files() -> None:
    main = (ROOT / "policies" / "__main__.py").read_text()
    assert "from mlplatform.policy.crossguard import PACK_NAME, policies" in main
    assert "runtime:" in (ROOT / "policies" / "PulumiPolicy.yaml").read_text()
    assert "pulumi-policy" in (ROOT / "policies" / "requirements.txt").read_text()
