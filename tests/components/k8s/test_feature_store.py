"""The Kubernetes FeatureStore: Redis sized and guarded, no secret in any output, its Feast config."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi_kubernetes as k8s
import pytest
import yaml

from mlplatform.components.k8s.feature_store import maxmemory_bytes
from mlplatform.context import ProgramContext
from mlplatform.plan.engine import Captured
from mlplatform.spec.feature_store import FeatureStore
from tests.components.k8s import manifests
from tests.components.k8s.conftest import STACKS, example
from tests.components.k8s.helpers import by_name, container, platform, run_k8s

STORE = FeatureStore(name="features", target="kubernetes", online_store="redis", redis_memory="2Gi")


def _quantity_bytes(quantity: str) -> int:
    number, unit = int(quantity[:-2]), quantity[-2:]
    return number * {"Mi": 2**20, "Gi": 2**30}[unit]


def test_maxmemory_is_half_the_container_memory_limit() -> None:
    # redis.io, "Redis administration" (Memory): while rewriting the AOF log Redis may use up to 2x
    # the memory normally used; the forked child's pages count against the same cgroup limit.
    captured, _ = run_k8s(platform(STORE))
    redis = container(by_name(captured, "features-redis"), "redis")
    limit = redis["resources"]["limits"]["memory"]
    assert limit == redis["resources"]["requests"]["memory"] == "2Gi"
    env = {e["name"]: e.get("value") for e in redis["env"]}
    assert int(env["REDIS_MAXMEMORY"]) == _quantity_bytes(limit) // 2 == 1073741824
    assert maxmemory_bytes("512Mi") == 268435456


@pytest.mark.parametrize(("env", "max_unavailable"), [("dev", 1), ("prod", 0)])
def test_redis_has_a_disruption_budget(env: str, max_unavailable: int) -> None:
    # Kubernetes docs, "Specifying a Disruption Budget": for a single-instance stateful application,
    # maxUnavailable=0 makes a drain wait for the operator; unhealthyPodEvictionPolicy AlwaysAllow
    # ("Unhealthy Pod Eviction Policy") keeps a crash-looping pod from blocking drains.
    captured, _ = run_k8s(platform(STORE), env=env)
    pdb = by_name(captured, "features-redis-pdb")
    assert pdb.type == "kubernetes:policy/v1:PodDisruptionBudget"
    sts = by_name(captured, "features-redis").inputs["spec"]
    assert pdb.inputs["spec"] == {
        "selector": sts["selector"],
        "maxUnavailable": max_unavailable,
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    assert manifests.validate(manifests.render(pdb)) == "builtin"


def test_redis_network_policy_restricts_ingress_and_egress() -> None:
    # Kubernetes docs, "Network Policies": with Egress in policyTypes and no egress rule, the pod
    # may open no connection; Redis (no replicas) opens none, its probes use loopback.
    captured, _ = run_k8s(platform(STORE))
    policy = by_name(captured, "features-redis-netpol")
    spec = policy.inputs["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["egress"] == []
    assert spec["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"mlplatform.io/platform": "shop", "mlplatform.io/environment": "dev"}
                    }
                }
            ],
            "ports": [{"protocol": "TCP", "port": 6379}],
        }
    ]
    assert manifests.validate(manifests.render(policy)) == "builtin"


def _probe(key: str) -> Callable[[ProgramContext], object]:
    # Feed one output into a resource input: the capture shows a secret as "[secret]".
    def register(ctx: ProgramContext) -> object:
        value = getattr(ctx.shared["kubernetes_components"]["features"], key)
        return k8s.core.v1.ConfigMap("probe", data={"value": value})

    return register


def test_no_output_carries_the_password() -> None:
    captured, _ = run_k8s(platform(STORE), after=_probe("feature_store_yaml"))
    text = by_name(captured, "probe").inputs["data"]["value"]  # a plain value: not a secret
    assert "password=${FEAST_REDIS_PASSWORD}" in text
    assert by_name(captured, "features-redis-auth").inputs["stringData"] == "[secret]"
    # The generated password (mock-random-... under mocks) is in no input and no output, and no
    # output had to be marked secret.
    assert "mock-random-" not in json.dumps([r.inputs for r in captured.resources])
    assert set(captured.outputs) == {"features_feature_store_yaml", "kubernetes_namespace", "pod_security"}
    assert "mock-random-" not in json.dumps(captured.outputs)
    assert "[secret]" not in json.dumps(captured.outputs)


def test_feast_config_of_the_kubernetes_example(prod: Captured) -> None:
    text = prod.outputs["features_feature_store_yaml"]
    data = yaml.safe_load(text)
    assert data["online_store"] == {
        "type": "redis",
        "redis_type": "redis",
        "connection_string": (
            "recs-prod-features-redis.recs-prod.svc.cluster.local:6379,password=${FEAST_REDIS_PASSWORD}"
        ),
    }
    bucket = "recs-prod-features-offline-123456789012"
    assert data["registry"] == {"path": f"s3://{bucket}/feast/registry.db", "cache_ttl_seconds": 60}
    assert data["provider"] == "aws"
    assert data["offline_store"] == {
        "type": "athena",
        "region": "eu-west-1",
        "data_source": "AwsDataCatalog",
        "database": "recs_prod_features",
        "workgroup": "recs-prod-features",
        "s3_staging_location": f"s3://{bucket}/athena/staging",
    }
    offline = [r for r in prod.resources if r.name.startswith(("features-offline", "features-athena"))]
    assert {r.type for r in offline} >= {
        "aws:s3/bucket:Bucket",
        "aws:glue/catalogDatabase:CatalogDatabase",
        "aws:athena/workgroup:Workgroup",
    }
    parent = next(r for r in prod.resources if r.name == "features" and r.type == "mlplatform:k8s:FeatureStore")
    assert all(r.parent == parent.urn for r in offline)
    policies = {
        r.inputs["name"] for r in prod.resources if r.type == "aws:iam/policy:Policy" and r.parent == parent.urn
    }
    assert policies == {
        f"recs-prod-features-feast-{op}" for op in ("apply", "materialize", "online-read", "historical")
    }
    assert set(prod.outputs["features_feast_policies"]) == {"apply", "materialize", "online-read", "historical"}


# `mlplatform feast-config` renders offline the very text `pulumi up` exports for the FeatureStore.
@pytest.mark.parametrize("stack", STACKS)
def test_feast_config_command_writes_the_stack_output(programs: dict[str, Captured], stack: str) -> None:
    from mlplatform.plan.feast import feast_config_for
    from tests.conftest import ROOT

    ex = example(stack)
    (store,) = [s for s in ex.spec.of_kind(FeatureStore) if s.target == "kubernetes"]
    found = feast_config_for(ROOT / ex.blueprint, stack=stack, account_id="123456789012", root=ROOT)
    assert found.text == programs[stack].outputs[f"{store.name}_feature_store_yaml"]
    # Feast reaches the store's Redis in the serving namespace, with the password left to the environment.
    assert f"{ex.prefix}-{store.name}-redis.{ex.prefix}.svc.cluster.local:6379" in found.text
    assert "${FEAST_REDIS_PASSWORD}" in found.text
