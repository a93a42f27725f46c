"""`mlplatform train render`: the printed TrainJob is valid against the upstream CRD and queued."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from mlplatform.cli.app import app
from tests.components.k8s import manifests
from tests.conftest import BLUEPRINTS

FRAUD = str(BLUEPRINTS / "fraud_detection.py")
ARGS = ["train", "render", FRAUD, "--env", "prod", "--nodes", "2", "--gpus-per-node", "1"]


def test_renders_a_two_node_gpu_trainjob_valid_against_the_crd() -> None:
    result = CliRunner().invoke(app, [*ARGS, "--image", "ghcr.io/example/fraud-train:1.0.0", "--", "torchrun", "t.py"])
    assert result.exit_code == 0, result.output
    job = yaml.safe_load(result.stdout)
    # Kubeflow Trainer's TrainJob CRD (shared/crds), closed to unknown fields.
    assert manifests.validate(job) == "crd"
    assert job["metadata"]["namespace"] == "fraud-prod-train"
    # Kueue admits a job through the LocalQueue its kueue.x-k8s.io/queue-name label names.
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "default"
    assert job["spec"]["runtimeRef"] == {
        "apiGroup": "trainer.kubeflow.org",
        "kind": "TrainingRuntime",
        "name": "torch-distributed",
    }
    trainer = job["spec"]["trainer"]
    assert trainer["numNodes"] == 2 and trainer["command"] == ["torchrun", "t.py"]
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == "1"


def test_rejects_an_unpinned_image_and_an_impossible_job() -> None:
    result = CliRunner().invoke(app, [*ARGS, "--image", "ghcr.io/example/fraud-train", "--", "python"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --image 'ghcr.io/example/fraud-train' has no tag")
    args = ["train", "render", FRAUD, "--env", "dev", "--nodes", "3", "--image", "repo/img:1.0", "--", "python"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: 3 nodes x 1 GPUs exceeds TrainingCluster 'train' quota of 2 GPUs in dev; "
        "the job would never be admitted"
    )


def test_rejects_resources_that_are_no_quantity_or_never_fit_the_quota() -> None:
    # Kueue admits a workload only within the ClusterQueue's nominal quota (the blueprint's Quota:
    # 128 CPUs, 512Gi in every fraud environment), and the LimitRange refuses a container above it.
    base = ["train", "render", FRAUD, "--env", "prod", "--image", "repo/img:1.0"]
    result = CliRunner().invoke(app, [*base, "--cpu", "four", "--", "python"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: --cpu 'four' is not a Kubernetes cpu quantity (e.g. 4 or 500m)"
    result = CliRunner().invoke(app, [*base, "--memory", "16GB", "--", "python"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: --memory '16GB' is not a Kubernetes memory quantity (e.g. 16Gi or 512Mi)"
    result = CliRunner().invoke(app, [*base, "--nodes", "3", "--cpu", "48", "--", "python"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: 3 nodes x 48 cpu exceeds TrainingCluster 'train' quota of 128 cpu in prod; "
        "the job would never be admitted"
    )
    result = CliRunner().invoke(app, [*base, "--nodes", "2", "--memory", "300Gi", "--", "python"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: 2 nodes x 300Gi memory exceeds TrainingCluster 'train' quota of 512Gi memory in prod; "
        "the job would never be admitted"
    )
    result = CliRunner().invoke(app, [*base, "--nodes", "2", "--cpu", "1500m", "--memory", "262144Mi", "--", "python"])
    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["trainer"]["resourcesPerNode"]["requests"]["memory"] == "262144Mi"


def test_json_is_the_same_trainjob_and_failures_are_json_too() -> None:
    # The CLI contract: --json prints one JSON document on stdout, a failure included (README, JSON output).
    image = ["--image", "ghcr.io/example/fraud-train:1.0.0", "--", "torchrun", "t.py"]
    as_yaml = CliRunner().invoke(app, [*ARGS, *image])
    as_json = CliRunner().invoke(app, [*ARGS, "--json", *image])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == yaml.safe_load(as_yaml.stdout)
    bad = CliRunner().invoke(app, [*ARGS, "--json", "--cpu", "four", "--image", "repo/img:1.0", "--", "python"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout) == {
        "error": {
            "kind": "invalid",
            "exit_code": 1,
            "message": "--cpu 'four' is not a Kubernetes cpu quantity (e.g. 4 or 500m)",
        }
    }
    assert bad.stderr == "error: --cpu 'four' is not a Kubernetes cpu quantity (e.g. 4 or 500m)\n"
