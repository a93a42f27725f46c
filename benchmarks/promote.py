"""Promote a large artifact on a local AWS emulator and print what it costs.

    python benchmarks/promote.py [--size BYTES] [--keep-going]

Starts moto's server on 127.0.0.1 in a separate process, seeds it like `mlplatform sandbox`,
registers a generated artifact (default 1 GiB) in dev (three times: plain, with a Model Monitor
baseline, plain again), then measures in the same run:
  - `mlplatform promote` dev -> staging (gates, lock, server-side copy with S3 SHA-256, checksum
    verification, model package, stack file, ledger), wall time;
  - a plain boto3 managed copy (`s3.copy`) of the same object with the same part size and
    concurrency, without checksums: the floor for moving the bytes;
  - bytes that went through this process (HTTP request and response bodies, counted with botocore
    event hooks) during each;
  - promoting the version with a baseline against the last plain one (both after warm-up);
  - `mlplatform promote --help` start-up time (a fresh interpreter, best of 5).
Targets: zero artifact bytes through the client, promote/copy ratio <= 1.2, --help < 0.5 s.
The artifact is written to a temporary folder and deleted afterwards; nothing is committed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIB = 1024**3
IMAGE = "example.dkr.ecr.us-east-1.amazonaws.com/model@sha256:" + "0" * 64  # images are pinned by digest
CONCURRENCY = "4"  # the emulator keeps objects in process memory; keep its peak bounded


class Counter:
    """Counts HTTP body bytes a botocore client sends and receives."""

    def __init__(self) -> None:
        self.sent = 0
        self.received = 0

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-send", self._sent)
        client.meta.events.register("after-call", self._received)
        return client

    def _sent(self, request: Any, **_: Any) -> None:
        body = request.body
        if body is None:
            return
        if isinstance(body, bytes | bytearray | str):
            self.sent += len(body)
        elif hasattr(body, "seek") and hasattr(body, "tell"):
            here = body.tell()
            body.seek(0, os.SEEK_END)
            self.sent += body.tell() - here
            body.seek(here)

    def _received(self, http_response: Any = None, model: Any = None, **_: Any) -> None:
        if http_response is None or (model is not None and model.http.get("method") == "HEAD"):
            return  # a HEAD response carries the object's Content-Length but no body
        if model is not None and model.has_streaming_output:
            self.received += int(http_response.headers.get("content-length") or 0)
        else:
            self.received += len(http_response.content or b"")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the emulator exited during start-up")
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the emulator did not start within 60 s")


def write_artifact(path: Path, size: int) -> None:
    block = os.urandom(16 * 1024 * 1024)
    with path.open("wb") as handle:
        left = size
        while left:
            n = min(left, len(block))
            handle.write(block[:n])
            left -= n


def help_time() -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlplatform", "promote", "--help"], capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=GIB, help="artifact size in bytes (default 1 GiB)")
    args = parser.parse_args()

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        MLPLATFORM_TRANSFER_CONCURRENCY=CONCURRENCY,
    )
    os.environ.pop("AWS_PROFILE", None)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work = Path(tempfile.mkdtemp(prefix="mlplatform-bench-"))
    try:
        wait_up(url, server)
        os.environ["AWS_ENDPOINT_URL"] = url
        run(args.size, url, work)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def run(size: int, url: str, work: Path) -> None:
    from mlplatform import naming
    from mlplatform.promotion import artifacts, operations, registry, sandbox
    from mlplatform.promotion.aws import Aws, new_session
    from mlplatform.promotion.project import Project

    sandbox.seed(sandbox.resolved_environments(str(ROOT / "blueprints" / "fraud_detection.py")), url)
    project_dir = work / "project"
    project_dir.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", project_dir)
    shutil.copytree(ROOT / "stacks", project_dir / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "blueprints", project_dir / "blueprints", ignore=shutil.ignore_patterns("__pycache__"))
    artifact = work / "model.tar.gz"
    write_artifact(artifact, size)
    print(f"artifact: {size} bytes ({size / GIB:.2f} GiB), part size {artifacts.part_size()} bytes", flush=True)

    project = Project.find(project_dir)
    start = time.perf_counter()
    metrics = {"auc": 0.95, "logloss": 0.2}
    done = registry.register(project, "fraud-xgb", "dev", registry.Submission(str(artifact), metrics, IMAGE))
    print(f"register (upload through the client, not part of the comparison): {time.perf_counter() - start:.2f} s")
    # The same bytes again as a second version, with a Model Monitor baseline: what promoting the
    # baseline adds (two small files read, checked and written) is measured against the first.
    folder = work / "baseline"
    folder.mkdir()
    features = [{"name": f"f{i}", "inferred_type": "Fractional"} for i in range(50)]
    for name in naming.BASELINE_FILES:
        (folder / name).write_text(json.dumps({"version": 0.0, "features": features}))
    with_baseline = registry.register(
        project, "fraud-xgb", "dev", registry.Submission(str(artifact), metrics, IMAGE, baseline=str(folder))
    )
    without = registry.register(project, "fraud-xgb", "dev", registry.Submission(str(artifact), metrics, IMAGE))
    artifact.unlink()  # the local copy is no longer needed

    counter = Counter()
    original = Aws.client

    def counted(self: Aws, service: str) -> Any:
        fresh = service not in self._clients
        client = original(self, service)
        return counter.attach(client) if fresh else client

    Aws.client = counted  # type: ignore[method-assign]
    start = time.perf_counter()
    outcome = operations.promote(project, "fraud-xgb", "dev", "staging", done.manifest.version)
    promote_s = time.perf_counter() - start
    Aws.client = original  # type: ignore[method-assign]
    assert outcome.entry is not None, "promotion did not run"

    baseline = Counter()
    s3 = baseline.attach(new_session(region="us-east-1").client("s3"))
    dev = naming.Names("fraud", "dev").registry_bucket(naming.ACCOUNT_ID_PLACEHOLDER)
    prod = naming.Names("fraud", "prod").registry_bucket(naming.ACCOUNT_ID_PLACEHOLDER)
    start = time.perf_counter()
    s3.copy(
        {"Bucket": dev, "Key": done.manifest.key},
        prod,
        "baseline/model.tar.gz",
        Config=artifacts.transfer_config(done.manifest.part_size),
    )
    copy_s = time.perf_counter() - start

    print(f"mlplatform promote dev -> staging: {promote_s:.2f} s wall")
    print(
        f"  bytes through the client: {counter.sent} sent, {counter.received} received "
        f"(artifact bytes: {0 if counter.sent + counter.received < size else 'ALL'}; the rest is API metadata)"
    )
    print(f"plain boto3 managed copy (same part size, no checksums): {copy_s:.2f} s wall")
    print(f"  bytes through the client: {baseline.sent} sent, {baseline.received} received")
    ratio = promote_s / copy_s
    print(f"ratio promote / plain copy: {ratio:.2f} (target <= 1.2)")
    # Both after the first promotion, so neither pays for warming up clients and the emulator.
    start = time.perf_counter()
    again = operations.promote(project, "fraud-xgb", "dev", "staging", with_baseline.manifest.version)
    baseline_s = time.perf_counter() - start
    assert again.baseline is not None, "the baseline was not promoted"
    start = time.perf_counter()
    operations.promote(project, "fraud-xgb", "dev", "staging", without.manifest.version)
    plain_s = time.perf_counter() - start
    print(f"mlplatform promote, a version with a baseline: {baseline_s:.2f} s wall; without: {plain_s:.2f} s")
    print(f"ratio with baseline / without: {baseline_s / plain_s:.2f}")
    helped = help_time()
    print(f"mlplatform promote --help: {helped:.3f} s (best of 5; target < 0.5 s)")


if __name__ == "__main__":
    main()
