"""`mlplatform sandbox` as a user runs it: a real process, a real port, Ctrl-C to stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import boto3

from mlplatform import naming
from tests.conftest import ROOT


def test_sandbox_command_serves_seeded_environments_until_interrupted() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlplatform",
            "sandbox",
            str(ROOT / "blueprints" / "fraud_detection.py"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("sandbox running"):
                break
        text = "".join(lines)
        assert f"  export AWS_ENDPOINT_URL=http://127.0.0.1:{port}\n" in text, (text, process.stderr)
        assert "fraud/prod: bucket fraud-prod-model-registry-123456789012, ledger fraud-prod-promotion-ledger" in text
        ssm = boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
        name = naming.Names("fraud", "staging").ssm_parameter(naming.SSM_REGISTRY_BUCKET)
        assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "fraud-staging-model-registry-123456789012"
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out.endswith("stopped\n")
