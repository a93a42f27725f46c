"""Feast on what the Kubernetes FeatureStore provisions: a real redis-server started from the
planned StatefulSet's own start script, with the password from the generated Secret, and the
generated config (registry in the emulator's copy of the planned offline bucket).

What differs from the cluster, and only that: redis-server listens on 127.0.0.1 and a free port
in temporary folders (the script's `bind`, `/data` and `/config` are substituted), and the
config's connection string points at that address instead of the in-cluster Service.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from mlplatform.blueprint import load
from mlplatform.plan.build import build_plan
from mlplatform.plan.model import Plan, PlannedResource
from mlplatform.spec.feature_store import FeatureStore as StoreSpec
from tests.components.k8s.helpers import run_k8s
from tests.conftest import ROOT
from tests.feast import iam, planned
from tests.feast.conftest import clients, feast_cli_here, feast_config, free_port, redis_server, write_repo

BLUEPRINT = ROOT / "blueprints" / "recommender_k8s.py"
COMPONENT = "mlplatform:k8s:FeatureStore"


def _generated_password(statefulset: PlannedResource) -> str:
    """The password in the Secret the component generates (a placeholder under the SDK mocks),
    read back from the Secret by a program that builds the same StatefulSet as the plan."""

    def export(ctx: Any) -> None:
        secret = ctx.shared["kubernetes_components"]["features"].secret
        pulumi.export("password", pulumi.Output.unsecret(secret.string_data))

    full = load(BLUEPRINT).resolve("dev")
    # The Kubernetes side alone, with the FeatureStore alone (others need the AWS side built first).
    stores = [c for c in full.components if isinstance(c, StoreSpec)]
    platform = full.model_copy(update={"components": stores})
    captured, _ = run_k8s(platform, env="dev", config={"mlplatform:kubeContext": "recs-dev"}, after=export)
    (same,) = [r for r in captured.resources if r.type == statefulset.type and r.name == statefulset.name]
    assert same.inputs == statefulset.inputs
    value = captured.outputs["password"]["password"]
    assert value and value != "[secret]"
    return str(value)


@dataclass
class Redis:
    process: subprocess.Popen[bytes]
    port: int
    password: str
    env: dict[str, str]
    container: dict[str, Any]


def _container(plan: Plan) -> tuple[PlannedResource, dict[str, Any]]:
    (sts,) = [r for r in plan.resources if r.type == "kubernetes:apps/v1:StatefulSet" and r.name == "features-redis"]
    (container,) = sts.inputs["spec"]["template"]["spec"]["containers"]
    return sts, container


def _start(container: dict[str, Any], password: str, tmp: Path) -> Redis:
    """redis-server run by the planned container command, on 127.0.0.1."""
    shell, flag, script = container["command"]
    assert (shell, flag) == ("/bin/sh", "-c")
    local = {
        "bind 0.0.0.0 -::*": "bind 127.0.0.1",
        "dir /data": f"dir {tmp / 'data'}",
        "/config/redis.conf": str(tmp / "config" / "redis.conf"),
    }
    for old, new in local.items():
        assert old in script, f"the start script no longer has {old!r}"
        script = script.replace(old, new)
    (tmp / "data").mkdir()
    (tmp / "config").mkdir()
    port = free_port()
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert container["env"][-1]["valueFrom"]["secretKeyRef"]["key"] == "password"
    env.update(REDIS_PORT=str(port), REDIS_PASSWORD=password, PATH=os.environ["PATH"])
    process = subprocess.Popen([shell, flag, script], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Wait on the planned readiness probe itself (redis-cli ping, authenticated).
    probe = container["readinessProbe"]["exec"]["command"]
    deadline = time.monotonic() + 30
    while subprocess.run(probe, env=env, capture_output=True).returncode != 0:
        assert process.poll() is None, "redis-server exited: the generated config was refused"
        assert time.monotonic() < deadline, "redis-server did not become ready in 30 s"
        time.sleep(0.05)
    return Redis(process, port, password, env, container)


@dataclass
class World:
    plan: Plan
    created: planned.Created
    redis: Redis
    repo: Path
    config: str
    views: list[str]

    def role(self, operation: str) -> iam.Role:
        document = json.loads(self.created.policies[f"recs-dev-features-feast-{operation}"])
        return iam.Role(document, {self.created.buckets[0]: self.created.planned_key_arn})


@pytest.fixture(scope="module")
def world(aws: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    redis_server()
    plan = build_plan(BLUEPRINT, "dev")
    children = planned.component_children(plan, COMPONENT, "features")
    created = planned.create(plan, [c for c in children if c.type.startswith("aws:")], clients(aws, plan.region))
    tmp = tmp_path_factory.mktemp("feast-redis")
    sts, container = _container(plan)
    platform = load(BLUEPRINT).resolve("dev")
    redis = _start(container, _generated_password(sts), tmp)
    config = feast_config(tmp, "recommender_k8s.py", "dev")
    data = yaml.safe_load(config)
    cluster = "recs-dev-features-redis.recs-dev.svc.cluster.local:6379"
    assert data["online_store"]["connection_string"] == f"{cluster},password=${{FEAST_REDIS_PASSWORD}}"
    local = config.replace(cluster, f"127.0.0.1:{redis.port}")
    assert local.count(f"127.0.0.1:{redis.port}") == 1
    spec = next(c for c in platform.components if isinstance(c, StoreSpec) and c.name == "features")
    views = [v.name for v in spec.online_views()]
    repo = tmp / "repo"
    write_repo(repo, local, views, entity="user", database="recs_dev_features")
    try:
        yield World(plan, created, redis, repo, config, views)
    finally:
        redis.process.terminate()
        redis.process.wait(timeout=30)


def test_the_cli_config_is_the_stack_output_and_holds_no_password(world: World) -> None:
    assert world.config == world.plan.outputs["features_feature_store_yaml"]
    assert world.redis.password not in world.config
    assert "[secret]" not in json.dumps(world.plan.outputs)


def test_redis_runs_with_the_planned_memory_limit_and_refuses_anonymous_clients(world: World) -> None:
    import redis as redis_py

    anonymous = redis_py.Redis(host="127.0.0.1", port=world.redis.port)
    with pytest.raises(redis_py.exceptions.AuthenticationError):
        anonymous.ping()
    client = redis_py.Redis(host="127.0.0.1", port=world.redis.port, password=world.redis.password)
    limit = world.redis.container["resources"]["limits"]["memory"]
    assert limit == "1Gi"  # recs dev: redis_memory=per_env(dev="1Gi", ...)
    assert client.config_get("maxmemory") == {"maxmemory": str(512 * 1024 * 1024)}
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert client.config_get("appendonly") == {"appendonly": "yes"}


def test_feast_apply_write_and_read_through_redis(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd
    from feast import FeatureStore
    from feast.repo_config import load_repo_config

    monkeypatch.setenv("FEAST_REDIS_PASSWORD", world.redis.password)  # as pods set it from the Secret
    config = load_repo_config(world.repo, world.repo / "feature_store.yaml")
    assert config.online_store.connection_string == f"127.0.0.1:{world.redis.port},password={world.redis.password}"
    code, output, calls = feast_cli_here(world.role("apply"), world.repo, "apply", "--skip-source-validation")
    assert code == 0, output[-3000:]
    assert [c for c in calls if not c["allowed"]] == []
    assert {(c["service"], c["operation"]) for c in calls} >= {("s3", "PutObject"), ("s3", "HeadBucket")}

    now = datetime.now(UTC)
    rows = pd.DataFrame({"user_id": [7, 8], "score": [0.5, 1.5], "event_timestamp": [now, now]})
    with iam.guard(world.role("materialize")) as writer:
        store = FeatureStore(repo_path=str(world.repo))
        for view in world.views:
            store.write_to_online_store(view, rows)
    assert writer.denied() == []
    with iam.guard(world.role("online-read")) as reader:
        got = FeatureStore(repo_path=str(world.repo)).get_online_features(
            features=[f"{v}:score" for v in world.views],
            entity_rows=[{"user_id": 7}, {"user_id": 8}],
            full_feature_names=True,
        )
    assert reader.denied() == []
    values = got.to_dict()
    for view in world.views:
        assert values[f"{view}__score"] == pytest.approx([0.5, 1.5])


def test_a_wrong_password_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import redis as redis_py
    from feast import FeatureStore

    monkeypatch.setenv("FEAST_REDIS_PASSWORD", "not-the-password")
    store = FeatureStore(repo_path=str(world.repo))
    with iam.guard(world.role("online-read")), pytest.raises(redis_py.exceptions.AuthenticationError):
        store.get_online_features(features=[f"{world.views[0]}:score"], entity_rows=[{"user_id": 7}])
