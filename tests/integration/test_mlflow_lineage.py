"""Lineage from MLflow: a real MLflow tracking server (the `mlflow` package's `mlflow server`) on
127.0.0.1, with a SQLite backend store and the local S3 emulator as its artifact store. A model
is logged with the MLflow client, registered with `register --from-mlflow`, promoted through the
gates with the run's metrics, and its lineage read back from the manifest and the ledger."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from mlplatform import naming
from tests.integration.conftest import IMAGE, MODEL, Emulator, cli

ARTIFACTS_BUCKET = "mlflow-artifacts"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
STARTUP_SECONDS = 420  # the server imports MLflow's whole stack: seen over 180 s on a 2-core machine under load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def tracking_server(emulator: Emulator) -> Iterator[str]:
    """`mlflow server` in a subprocess, proxying artifacts to the emulator's S3."""
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-server-"))
    env = {**os.environ, "MLFLOW_S3_ENDPOINT_URL": emulator.url}
    args = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{workdir}/mlflow.db",
            "--artifacts-destination", f"s3://{ARTIFACTS_BUCKET}/", "--workers", "1"]  # fmt: skip
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (workdir / "server.log").read_text()[-2000:]
                    raise RuntimeError(f"mlflow server did not start: {tail}") from None
                time.sleep(0.2)  # polling the health endpoint, bounded by the deadline
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture
def mlflow_client(tracking_server: str, emulator: Emulator) -> Any:
    """The MLflow client pointed at the server; the emulator is reset before each test, so the
    artifact bucket is made again."""
    import mlflow

    boto3.client("s3", endpoint_url=emulator.url).create_bucket(Bucket=ARTIFACTS_BUCKET)
    mlflow.set_tracking_uri(tracking_server)
    return mlflow


def _log_model(mlflow: Any, metrics: dict[str, float], experiment: str = "fraud-training") -> tuple[str, str]:
    """A pyfunc model logged in a run with parameters, metrics and a source commit, registered
    as a version of MODEL; returns (run id, registered version)."""

    class Scorer(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
        def predict(self, context, model_input):  # type: ignore[no-untyped-def]  # MLflow reads these hints
            return model_input

    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        mlflow.log_params({"max_depth": 6, "eta": 0.1})
        mlflow.log_metrics(metrics)
        mlflow.set_tag("mlflow.source.git.commit", COMMIT)
        info = mlflow.pyfunc.log_model(name="model", python_model=Scorer())
    version = mlflow.register_model(info.model_uri, MODEL)
    return run.info.run_id, str(version.version)


def _manifest(env: str, version: str) -> dict[str, Any]:
    s3 = boto3.client("s3")
    body = s3.get_object(Bucket=naming.Names("fraud", env).registry_bucket("123456789012"),
                         Key=naming.manifest_key(MODEL, version))["Body"].read()  # fmt: skip
    data: dict[str, Any] = json.loads(body)
    return data


def _register(project: Path, tracking: str, source: str) -> Any:
    return cli(project, "register", MODEL, "--env", "dev", "--from-mlflow", source, "--tracking-uri", tracking,
               "--image", IMAGE, "--json")  # fmt: skip


def test_a_logged_model_is_registered_with_its_lineage_and_promoted_on_its_run_metrics(
    project: Path, tracking_server: str, mlflow_client: Any
) -> None:
    run_id, version = _log_model(mlflow_client, {"auc": 0.95, "logloss": 0.2})
    result = _register(project, tracking_server, f"models:/{MODEL}/{version}")
    assert result.exit_code == 0, result.output
    registered = json.loads(result.stdout)
    assert (registered["model"], registered["version"]) == (MODEL, "1")
    # The artifact registered is the MLflow model, packed reproducibly: download and pack it again.
    from mlplatform.promotion import mlflow_source

    again = mlflow_source.resolve(f"models:/{MODEL}/{version}", tracking_server, Path(tempfile.mkdtemp()))
    assert registered["sha256"] == hashlib.sha256(again.artifact.read_bytes()).hexdigest()
    assert registered["metrics"] == {"auc": 0.95, "logloss": 0.2}
    lineage = {
        "source": f"models:/{MODEL}/{version}",
        "tracking_uri": tracking_server,
        "run_id": run_id,
        "experiment_id": "1",
        "experiment_name": "fraud-training",
        "params": {"max_depth": "6", "eta": "0.1"},
        "metrics": {"auc": 0.95, "logloss": 0.2},
        "source_commit": COMMIT,
        "registered_model": MODEL,
        "registered_version": version,
    }
    assert registered["lineage"] == lineage
    manifest = _manifest("dev", "1")
    assert manifest["lineage"] == lineage and manifest["metrics"] == {"auc": 0.95, "logloss": 0.2}
    assert manifest["sha256"] == registered["sha256"]

    # staging gates (blueprint: auc >= 0.90, logloss <= 0.35) read the run's metrics.
    promoted = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", "1", "--json")
    assert promoted.exit_code == 0, promoted.output
    assert _manifest("staging", "1")["lineage"] == lineage

    history = cli(project, "history", MODEL, "--json")
    assert history.exit_code == 0, history.output
    entries = json.loads(history.stdout)
    register = next(e for e in entries if e["action"] == "register")
    assert register["lineage"] == lineage
    promote = next(e for e in entries if e["action"] == "promote")
    assert promote["lineage"]["run_id"] == run_id
    shown = cli(project, "history", MODEL)
    assert f"from models:/{MODEL}/{version} (run {run_id}, experiment 'fraud-training', commit {COMMIT[:12]})" in (
        shown.stdout
    )
    status = cli(project, "status", "--env", "staging")
    assert f"models:/{MODEL}/{version}" in status.stdout and run_id in status.stdout


def test_a_run_whose_metrics_miss_the_gates_is_registered_and_not_promoted(
    project: Path, tracking_server: str, mlflow_client: Any
) -> None:
    _, version = _log_model(mlflow_client, {"auc": 0.61, "logloss": 0.2}, experiment="fraud-weak")
    assert _register(project, tracking_server, f"models:/{MODEL}/{version}").exit_code == 0
    result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", "1")
    assert result.exit_code == 1
    assert "auc" in result.output and "0.61" in result.output and "0.9" in result.output


def test_a_run_artifact_is_registered_byte_for_byte(
    project: Path, tracking_server: str, mlflow_client: Any, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(os.urandom(300 * 1024))
    mlflow_client.set_experiment("fraud-files")
    with mlflow_client.start_run() as run:
        mlflow_client.log_metric("auc", 0.93)
        mlflow_client.log_artifact(str(artifact), artifact_path="model")
    result = _register(project, tracking_server, f"runs:/{run.info.run_id}/model/model.bin")
    assert result.exit_code == 0, result.output
    registered = json.loads(result.stdout)
    assert registered["sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert registered["lineage"]["run_id"] == run.info.run_id and registered["lineage"]["registered_model"] is None


def test_an_unknown_model_version_is_a_clear_error(project: Path, tracking_server: str, mlflow_client: Any) -> None:
    result = _register(project, tracking_server, f"models:/{MODEL}/99")
    assert result.exit_code == 1
    assert f"models:/{MODEL}/99: " in result.output and f"(MLflow at {tracking_server})" in result.output
    assert "Traceback" not in result.output
