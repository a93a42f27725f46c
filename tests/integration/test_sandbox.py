"""`mlplatform sandbox` as a user runs it: a real process, a real port, Ctrl-C to stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import boto3

from mlplatform import naming
from tests.conftest import ROOT

SANDBOX = [sys.executable, "-m", "mlplatform", "sandbox", str(ROOT / "blueprints" / "fraud_detection.py")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sandbox_command_serves_seeded_environments_until_interrupted() -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    process = subprocess.Popen(
        [*SANDBOX, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
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
        assert (
            f"  export AWS_ENDPOINT_URL=http://127.0.0.1:{port} AWS_DEFAULT_REGION=us-east-1 MLPLATFORM_DUTY_ROLES=1\n"
        ) in text, text
        assert (
            "fraud/prod: bucket fraud-prod-model-registry-123456789012, ledger fraud-prod-promotion-ledger "
            "(write-once copy fraud-prod-ledger-archive-123456789012)"
        ) in text
        people = dict(re.findall(r"then, as (\w+) \((\w+)\): export AWS_ACCESS_KEY_ID=", text))
        assert people == {"bob": "promoter", "alice": "approver"}
        url = f"http://127.0.0.1:{port}"
        ssm = boto3.client("ssm", endpoint_url=url, region_name="us-east-1")
        name = naming.Names("fraud", "staging").ssm_parameter(naming.SSM_REGISTRY_BUCKET)
        assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "fraud-staging-model-registry-123456789012"
        key, secret = re.search(
            r"as alice \(approver\): export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)", text
        ).groups()  # type: ignore[union-attr]
        sts = boto3.client(
            "sts", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret
        )
        assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/alice"
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert err.endswith("stopped\n")


def test_a_second_sandbox_on_a_busy_port_exits_at_once() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run([*SANDBOX, "--port", str(port)], capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert done.stderr == f"error: cannot listen on 127.0.0.1:{port}: Address already in use; pick another --port\n"
    assert done.stdout == ""
    assert elapsed < 30  # the interpreter and the blueprint load; the old code never returned
