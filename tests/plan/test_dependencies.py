"""What the program names, it waits for: over every example blueprint and environment.

A resource whose inputs name another planned resource by a plain string (an endpoint name, an
alarm name, a namespace) makes an API call that looks that resource up when it is created: the
SageMaker CreateDataQualityJobDefinition and CreateMonitoringSchedule calls check that the endpoint
exists, CreateEndpoint's auto-rollback names CloudWatch alarms, and the Kubernetes API rejects an
object in a namespace that does not exist yet ("namespaces ... not found"). Pulumi runs
independent resources in parallel, so unless the reference carries a dependency (an Output of the
other resource, or depends_on) the call can race the resource it names. This test finds every
such string in the plans and requires a dependency path to the resource it names.

Input fields the services accept without looking the name up (IAM and resource policy documents,
tags and labels, descriptions, metric dimensions, dashboard bodies, SSM values, event patterns,
container environment) are not references in this sense, and are skipped by name below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlplatform import stack_config
from mlplatform.cli.app import app
from tests.conftest import ROOT

runner = CliRunner()

# Every example environment: the AWS example and the Kubernetes recommender, each with promoted
# versions (samples) and as it is (first deploy).
PLANS = [
    *(
        ("blueprints/fraud_detection.py", env, f"stacks/samples/Pulumi.{env}-promoted.yaml")
        for env in ("dev", "staging", "prod")
    ),
    *(("blueprints/fraud_detection.py", env, f"stacks/Pulumi.{env}.yaml") for env in ("dev", "staging", "prod")),
    *(
        ("blueprints/recommender_k8s.py", env, f"stacks/samples/Pulumi.recs-{env}-promoted.yaml")
        for env in ("dev", "staging", "prod")
    ),
    *(("blueprints/recommender_k8s.py", env, f"stacks/Pulumi.recs-{env}.yaml") for env in ("dev", "staging", "prod")),
]

# The input that sets an AWS resource's physical name: `name` unless the type says otherwise (an
# S3 bucket's settings name their bucket in `bucket`: for them it is a reference, not a name).
IDENTITY_KEY = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupName",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": "modelPackageGroupName",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
}


def identity_key(resource_type: str) -> str:
    return IDENTITY_KEY.get(resource_type, "name")


# Inputs whose strings AWS or Kubernetes store without resolving them when the resource is created.
NOT_LOOKED_UP = {
    "policy",  # IAM / bucket / topic / key policy documents: ARNs in them need not exist
    "assumeRolePolicy",
    "tags",
    "tagsAll",
    "labels",
    "annotations",
    "description",
    "alarmDescription",
    "modelPackageGroupDescription",
    "dimensions",  # CloudWatch metric dimensions: a metric may not exist yet
    "dashboardBody",
    "eventPattern",
    "inputTemplate",
    "insecureValue",  # SSM parameter values are opaque text
    "value",
    "environment",  # container environment variables
    "env",
    "kubeconfig",
    "data",  # ConfigMap/Secret payloads
    "stringData",
}


def _plan(blueprint: str, env: str, stack_file: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["plan", blueprint, "--env", env, "--stack-file", stack_file, "--json"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    return list(json.loads(text[: text.rindex("}") + 1])["resources"])


def _strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_LOOKED_UP:
                yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, str(i)))
    elif isinstance(value, str):
        yield path, value


# ARN service -> pulumi-aws module of the resources it names, where they differ.
ARN_MODULES = {"logs": "cloudwatch", "events": "cloudwatch", "monitoring": "cloudwatch"}


def _arn_name(text: str) -> tuple[str, str] | None:
    """(pulumi-aws module, resource name) of an ARN such as arn:aws:sagemaker:...:endpoint/NAME."""
    if not text.startswith("arn:") or text.count(":") < 5:
        return None
    service, tail = text.split(":")[2], text.split(":", 5)[-1]
    if "/" not in tail:
        return None
    return ARN_MODULES.get(service, service), tail.rsplit("/", 1)[-1]


def _module(resource_type: str) -> str:
    return resource_type.split(":")[1].split("/")[0]


def _closure(resources: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Every URN a resource waits for: its dependencies, theirs, and the children of a component
    it depends on (Pulumi waits for a component's children when depends_on names the component)."""
    by_urn = {r["urn"]: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in resources:
        if r.get("parent"):
            children.setdefault(r["parent"], []).append(r["urn"])
    waits: dict[str, set[str]] = {}

    def expand(urn: str) -> set[str]:
        if urn in waits:
            return waits[urn]
        waits[urn] = set()
        found: set[str] = set()
        resource = by_urn.get(urn)
        direct = list(resource["dependencies"]) if resource else []
        while direct:
            dep = direct.pop()
            if dep in found:
                continue
            found.add(dep)
            found |= expand(dep)
            direct.extend(children.get(dep, []))
        waits[urn] = found
        return found

    for r in resources:
        expand(r["urn"])
    return waits


def _aws_names(resources: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    names: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        if r["custom"] and r["type"].startswith("aws:"):
            value = r["inputs"].get(identity_key(r["type"]))
            if isinstance(value, str) and len(value) > 3:
                names.setdefault(value, []).append(r)
    return names


def unordered_references(resources: list[dict[str, Any]]) -> list[str]:
    """'<resource> input <path> names <other> without depending on it', for each such string."""
    waits = _closure(resources)
    names = _aws_names(resources)
    namespaces = {
        r["inputs"]["metadata"]["name"]: r
        for r in resources
        if r["type"] == "kubernetes:core/v1:Namespace" and isinstance(r["inputs"].get("metadata", {}).get("name"), str)
    }
    found = []
    for r in resources:
        if not r["custom"]:
            continue
        own_key = identity_key(r["type"])
        for path, text in _strings(r["inputs"]):
            if path == (own_key,):
                continue  # the resource's own name
            if r["type"].startswith("aws:"):
                named = names.get(text, [])
                arn = _arn_name(text)
                if not named and arn is not None:  # an ARN names a resource of its own service
                    named = [o for o in names.get(arn[1], []) if _module(o["type"]) == arn[0]]
            elif path == ("metadata", "namespace") and text in namespaces:
                named = [namespaces[text]]  # a Kubernetes object lives in a namespace that must exist
            else:
                continue
            for other in named:
                if other["urn"] == r["urn"]:
                    continue
                if other["urn"] not in waits[r["urn"]]:
                    found.append(
                        f"{r['type']} {r['name']} input {'.'.join(path)}={text!r} names {other['type']} "
                        f"{other['name']} without depending on it"
                    )
    return sorted(set(found))


def test_the_check_finds_a_reference_by_plain_string() -> None:
    endpoint = {"urn": "u:ep", "type": "aws:sagemaker/endpoint:Endpoint", "name": "ep", "custom": True}
    job = {
        "urn": "u:job",
        "type": "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "name": "job",
        "custom": True,
    }
    endpoint |= {"parent": None, "dependencies": [], "inputs": {"name": "fraud-prod-scorer"}}
    job |= {"parent": None, "dependencies": [], "inputs": {"input": {"endpointName": "fraud-prod-scorer"}}}
    assert unordered_references([endpoint, job]) == [
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition job input input.endpointName="
        "'fraud-prod-scorer' names aws:sagemaker/endpoint:Endpoint ep without depending on it"
    ]
    job["dependencies"] = ["u:ep"]
    assert unordered_references([endpoint, job]) == []


@pytest.mark.parametrize(("blueprint", "env", "stack_file"), PLANS, ids=lambda v: Path(v).name)
def test_every_resource_waits_for_what_it_names(
    blueprint: str, env: str, stack_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert stack_config.read(ROOT / stack_file).blueprint == blueprint
    assert unordered_references(_plan(blueprint, env, stack_file)) == []


def test_the_check_finds_an_object_in_a_namespace_it_does_not_wait_for() -> None:
    def resource(urn: str, type_: str, inputs: dict[str, Any], deps: list[str]) -> dict[str, Any]:
        return {
            "urn": urn,
            "type": type_,
            "name": urn,
            "custom": True,
            "parent": None,
            "dependencies": deps,
            "inputs": inputs,
        }

    namespace = resource("u:ns", "kubernetes:core/v1:Namespace", {"metadata": {"name": "fraud-prod"}}, [])
    deployment = resource(
        "u:dep", "kubernetes:apps/v1:Deployment", {"metadata": {"name": "scorer", "namespace": "fraud-prod"}}, []
    )
    assert unordered_references([namespace, deployment]) == [
        "kubernetes:apps/v1:Deployment u:dep input metadata.namespace='fraud-prod' names "
        "kubernetes:core/v1:Namespace u:ns without depending on it"
    ]
    deployment["dependencies"] = ["u:ns"]
    assert unordered_references([namespace, deployment]) == []
    # An ARN names a resource of its own service only: an SQS queue ARN does not name an IAM role.
    role = resource("u:role", "aws:iam/role:Role", {"name": "fraud-prod-train-karpenter"}, [])
    target = resource(
        "u:t", "aws:cloudwatch/eventTarget:EventTarget", {"arn": "arn:aws:sqs:r:1:queue/fraud-prod-train-karpenter"}, []
    )
    assert unordered_references([role, target]) == []
