"""TrainingPipeline on Kubernetes: a CronJob that creates a TrainJob on the TrainingCluster's
runtime, with RBAC limited to that, non-root with limits; and the launcher it runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from mlplatform.components.k8s import training_pipeline
from mlplatform.promotion import pipeline_steps
from mlplatform.promotion.errors import PromotionError
from mlplatform.spec.model_endpoint import ModelEndpoint
from mlplatform.spec.training_cluster import Quota, TrainingCluster
from mlplatform.spec.training_pipeline import TrainingPipeline, TrainStep
from tests.components.conftest import Resources
from tests.components.k8s.helpers import platform, run_k8s
from tests.components.k8s.manifests import render, validate
from tests.components.k8s.pod_security import restricted_violations

IMAGE = "ghcr.io/example/ranker-train@sha256:" + "1" * 64
LAUNCHER = "ghcr.io/example/mlplatform@sha256:" + "2" * 64
PIPELINE = TrainingPipeline(
    name="retrain",
    model="ranker-model",
    target="kubernetes",
    training_cluster="train",
    schedule="cron(0 3 ? * 2 *)",
    launcher_image=LAUNCHER,
    train=TrainStep(image=IMAGE, runtime="torch-distributed", instance_count=2, command=["torchrun", "train.py"]),
)


@pytest.fixture(scope="module")
def built() -> Resources:
    p = platform(
        TrainingCluster(name="train", target="kubernetes", quota=Quota(gpus=0)),
        ModelEndpoint(name="ranker", model="ranker-model", target="kubernetes", image="ghcr.io/example/r:1.0"),
        PIPELINE,
    )
    captured, _ = run_k8s(p, after=training_pipeline.build)
    return Resources(captured)


def test_a_cron_job_runs_on_the_schedule_one_at_a_time(built: Resources) -> None:
    cron = built.named("retrain-schedule")
    assert cron.type == "kubernetes:batch/v1:CronJob"
    assert cron.inputs["metadata"]["namespace"] == "shop-dev-train"
    spec = cron.inputs["spec"]
    # EventBridge's day-of-week 2 is Monday; a CronJob counts from 0 (Sunday) (Kubernetes docs, "CronJob").
    assert spec["schedule"] == "0 3 * * 1"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert validate(render(cron)) == "builtin"


def test_the_launcher_is_non_root_with_limits(built: Resources) -> None:
    pod = render(built.named("retrain-schedule"))["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    # Pod Security Standards, "restricted" profile (the training namespace enforces it).
    assert restricted_violations(pod) == []
    (container,) = pod["containers"]
    assert container["image"] == LAUNCHER
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "100m", "memory": "128Mi"},
    }
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["command"] == [
        "python3",
        "-m",
        "mlplatform.promotion.pipeline_steps",
        "start-trainjob",
        "--manifest",
        "/etc/mlplatform/trainjob.json",
    ]
    assert pod["serviceAccountName"] == "shop-dev-retrain-launcher"


def test_rbac_allows_only_creating_and_listing_trainjobs_in_the_namespace(built: Resources) -> None:
    role = built.named("retrain-launcher-role")
    assert role.type == "kubernetes:rbac.authorization.k8s.io/v1:Role"
    assert role.inputs["metadata"]["namespace"] == "shop-dev-train"
    assert role.inputs["rules"] == [
        {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"], "verbs": ["create", "list"]}
    ]
    binding = built.named("retrain-launcher-binding")
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": "shop-dev-retrain-launcher", "namespace": "shop-dev-train"}
    ]
    assert binding.inputs["roleRef"]["kind"] == "Role"
    assert not [r for r in built.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole") if "retrain" in r.name]
    for name in ("retrain-launcher", "retrain-launcher-role", "retrain-launcher-binding", "retrain-trainjob"):
        assert validate(render(built.named(name))) == "builtin"


def test_the_trainjob_runs_on_the_clusters_runtime_and_queue(built: Resources) -> None:
    job = json.loads(built.named("retrain-trainjob").inputs["data"]["trainjob.json"])
    assert job["metadata"]["generateName"] == "shop-dev-retrain-"
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "default"
    assert job["metadata"]["labels"]["mlplatform.io/pipeline"] == "retrain"
    assert job["spec"]["runtimeRef"]["name"] == "torch-distributed"
    assert job["spec"]["trainer"]["numNodes"] == 2
    assert job["spec"]["trainer"]["command"] == ["torchrun", "train.py"]
    named = {**job, "metadata": {**job["metadata"], "name": "shop-dev-retrain-x1"}}
    assert validate(named) == "crd"  # Kubeflow Trainer's TrainJob CRD, from shared/crds


class _Api(BaseHTTPRequestHandler):
    """The two TrainJob calls the launcher makes, as the Kubernetes API answers them."""

    jobs: list[dict[str, Any]] = []
    seen: list[tuple[str, str, str]] = []

    def _reply(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, self.headers["Authorization"]))
        self._reply({"items": self.jobs})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(("POST", self.path, self.headers["Authorization"]))
        body["metadata"]["name"] = body["metadata"]["generateName"] + "abcde"
        self._reply(body, 201)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    _Api.jobs, _Api.seen = [], []
    server = HTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "token").write_text("sa-token\n")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()


def _manifest(built: Resources) -> dict[str, Any]:
    return dict(json.loads(built.named("retrain-trainjob").inputs["data"]["trainjob.json"]))


def test_the_launcher_creates_the_trainjob(built: Resources, api: tuple[str, Path]) -> None:
    url, account = api
    assert pipeline_steps.start_trainjob(_manifest(built), url, account) == "shop-dev-retrain-abcde"
    path = "/apis/trainer.kubeflow.org/v1alpha1/namespaces/shop-dev-train/trainjobs"
    assert _Api.seen == [
        ("GET", f"{path}?labelSelector=mlplatform.io%2Fpipeline%3Dretrain", "Bearer sa-token"),
        ("POST", path, "Bearer sa-token"),
    ]


def test_the_launcher_waits_while_the_last_trainjob_runs(built: Resources, api: tuple[str, Path]) -> None:
    url, account = api
    _Api.jobs = [{"metadata": {"name": "shop-dev-retrain-old"}, "status": {"conditions": []}}]
    assert pipeline_steps.start_trainjob(_manifest(built), url, account) is None
    assert [m for m, _, _ in _Api.seen] == ["GET"]
    _Api.jobs = [{"metadata": {"name": "old"}, "status": {"conditions": [{"type": "Complete", "status": "True"}]}}]
    assert pipeline_steps.start_trainjob(_manifest(built), url, account) == "shop-dev-retrain-abcde"


def test_the_launcher_reports_an_unreachable_api(built: Resources, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    with pytest.raises(PromotionError, match=r"^GET http://127\.0\.0\.1:9/apis/trainer\.kubeflow\.org/"):
        pipeline_steps.start_trainjob(_manifest(built), "http://127.0.0.1:9", tmp_path)
