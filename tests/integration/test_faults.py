"""Faults: each exits 1 with a clear message and leaves the target stack file (same bytes)
and the ledger (same entries) as they were."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from mlplatform import naming
from tests.integration.conftest import (
    MODEL,
    Emulator,
    approve,
    cli,
    command,
    environ,
    ledger_items,
    register,
    registry,
    run,
    sha256,
    stack_file,
    stack_version,
)

PROMOTE = ("promote", MODEL, "--from", "dev", "--to", "staging")


def wait_for(path: Path, process: subprocess.Popen[str] | None = None, timeout: float = 180) -> None:
    """Poll (bounded) until `path` exists; fail early if the process ended instead."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"process ended before {path.name}: {process.returncode}\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {path}")
        time.sleep(0.02)


@contextmanager
def unchanged(project: Path, env: str = "staging") -> Iterator[None]:
    before_file, before_ledger = sha256(stack_file(project, env)), ledger_items(env)
    yield
    assert sha256(stack_file(project, env)) == before_file, "stack file changed"
    assert ledger_items(env) == before_ledger, "ledger changed"


def test_concurrent_promotions_one_wins(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    processes = [
        subprocess.Popen(
            command(project, *PROMOTE, "--version", version),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environ(),
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    winners = [r for r in results if r[0] == 0 and r[1].startswith(f"promoted {MODEL} {version}")]
    assert len(winners) == 1, results
    for code, out, err in results:
        if (code, out, err) in winners:
            continue
        if code == 0:
            assert out == f"{MODEL} {version} is already in staging; nothing to do\n"
        else:
            assert code == 1, err
            assert f"error: staging: {MODEL} is locked by 'promote {MODEL} {version} dev -> staging'" in err or (
                f"error: staging: {MODEL} was locked by another promotion a moment ago" in err
            ), err
            assert "Nothing was changed" in err or "nothing was changed" in err
            assert "Traceback" not in err
    assert [i["action"]["S"] for i in ledger_items("staging")] == ["promote"]
    assert stack_version(project, "staging") == version
    lock = boto3.client("s3").list_objects_v2(Bucket=registry("staging"), Prefix=naming.REGISTRY_LOCKS_PREFIX)
    assert lock.get("KeyCount", 0) == 0


def test_killed_during_copy_leaves_stale_lock_then_unlock_and_rerun(
    project: Path, tmp_path: Path, good_metrics: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 11 MiB in 5 MiB parts: a multipart copy, killed after its first part is copied
    monkeypatch.setenv("MLPLATFORM_PART_SIZE", str(5 * 1024 * 1024))
    big = tmp_path / "model.tar.gz"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    version = register(project, big, good_metrics)
    marker = tmp_path / "checkpoint"
    marker.mkdir()
    with unchanged(project):
        process = subprocess.Popen(
            command(project, *PROMOTE, "--version", version),
            env=environ(MLPLATFORM_CHECKPOINT=f"copy-started:{marker}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(marker / "reached", process)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL
        dest = boto3.client("s3").list_objects_v2(Bucket=registry("staging"), Prefix=naming.REGISTRY_MODELS_PREFIX)
        assert dest.get("KeyCount", 0) == 0  # the multipart copy never completed

        blocked = cli(project, *PROMOTE, "--version", version)
        assert blocked.exit_code == 1
        assert f"error: staging: {MODEL} is locked by 'promote {MODEL} {version} dev -> staging'" in blocked.stderr
        assert (
            "that process is no longer running: the lock is stale. Nothing was changed. "
            f"Remove it with `mlplatform unlock {MODEL} --env staging --force` and run again"
        ) in blocked.stderr

        refused = cli(project, "unlock", MODEL, "--env", "staging")
        assert refused.exit_code == 1 and "pass --force to remove it" in refused.stderr
        removed = cli(project, "unlock", MODEL, "--env", "staging", "--force")
        assert removed.exit_code == 0, removed.stderr
        assert removed.stdout.startswith(f"staging: removed the lock of {MODEL} held by 'promote {MODEL} {version}")

    done = cli(project, *PROMOTE, "--version", version)
    assert done.exit_code == 0, done.stderr
    assert stack_version(project, "staging") == version
    assert [i["action"]["S"] for i in ledger_items("staging")] == ["promote"]
    head = boto3.client("s3").head_object(
        Bucket=registry("staging"), Key=naming.artifact_key(MODEL, version, "model.tar.gz"), ChecksumMode="ENABLED"
    )
    assert head["ContentLength"] == 11 * 1024 * 1024


def test_live_lock_is_never_removed(project: Path, artifact: Path, good_metrics: Path) -> None:
    import socket

    body = {
        "operation": "promote by hand",
        "user": "bob",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "at": "2030-01-01T00:00:00.000000Z",
    }
    boto3.client("s3").put_object(Bucket=registry("staging"), Key=naming.lock_key(MODEL), Body=json.dumps(body))
    result = cli(project, "unlock", MODEL, "--env", "staging", "--force")
    assert result.exit_code == 1
    assert "which is still running; a live lock is never removed" in result.stderr
    version = register(project, artifact, good_metrics)
    with unchanged(project):
        blocked = cli(project, *PROMOTE, "--version", version)
    assert blocked.exit_code == 1
    assert "another promotion is in progress. Nothing was changed; wait for it to finish" in blocked.stderr


def test_corrupted_artifact_fails_checksum_gate(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    key = naming.artifact_key(MODEL, version, "model.tar.gz")
    tampered = bytearray(artifact.read_bytes())
    tampered[100] ^= 0xFF
    boto3.client("s3").put_object(Bucket=registry("dev"), Key=key, Body=bytes(tampered), ChecksumAlgorithm="SHA256")
    with unchanged(project):
        result = cli(project, *PROMOTE, "--version", version)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: promote {MODEL} {version} dev -> staging: 1 gate failed, nothing was changed:\n"
        f"  - checksum gate: dev: {MODEL} {version}: checksum mismatch: S3 reports SHA-256 "
    )
    assert "the artifact is corrupted or was replaced" in result.stderr


def test_missing_version(project: Path, artifact: Path, good_metrics: Path) -> None:
    register(project, artifact, good_metrics)
    with unchanged(project):
        result = cli(project, *PROMOTE, "--version", "99")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: promote {MODEL} 99 dev -> staging: 1 gate failed, nothing was changed:\n"
        f"  - version gate: {MODEL} version 99 does not exist in dev (registered versions there: 1)\n"
    )


def test_failing_metric_gates_are_all_listed(project: Path, artifact: Path, tmp_path: Path) -> None:
    metrics = tmp_path / "bad.json"
    metrics.write_text('{"auc": 0.81}')
    version = register(project, artifact, metrics)
    with unchanged(project):
        result = cli(project, *PROMOTE, "--version", version)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: promote {MODEL} {version} dev -> staging: 2 gates failed, nothing was changed:\n"
        f"  - metric gate: endpoint 'scorer' in staging requires auc >= 0.9; {MODEL} {version} has auc=0.81\n"
        f"  - metric gate: endpoint 'scorer' in staging requires logloss <= 0.35; {MODEL} {version} has no "
        "logloss recorded\n"
    )


def test_alarm_in_alarm_blocks_promotion(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    alarm = naming.Names("fraud", "dev").alarm("scorer", "latency-p99")
    boto3.client("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="p99 over 200 ms")
    with unchanged(project):
        result = cli(project, *PROMOTE, "--version", version)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: promote {MODEL} {version} dev -> staging: 1 gate failed, nothing was changed:\n"
        f"  - alarm gate: alarm {alarm} in dev is in ALARM\n"
    )


def test_missing_approval_blocks_prod(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    assert cli(project, *PROMOTE, "--version", version).exit_code == 0
    with unchanged(project, "prod"):
        result = cli(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", version, "--yes")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: promote {MODEL} {version} staging -> prod: 1 gate failed, nothing was changed:\n"
        f"  - approval gate: prod requires {MODEL} {version} to be approved in staging; an approver runs "
        f"`mlplatform approve {MODEL} --env staging --version {version} --reason TEXT`\n"
    )
    rejected = approve(project, version, "staging", "alice", "--reject")
    assert rejected.exit_code == 0, rejected.stderr
    assert rejected.stdout.startswith(f"rejected {MODEL} {version} in staging by alice: offline eval ok")
    with unchanged(project, "prod"):
        result = cli(project, "promote", MODEL, "--from", "staging", "--to", "prod", "--version", version, "--yes")
    assert f"  - approval gate: {MODEL} {version} was rejected in staging by alice at " in result.stderr
    assert result.stderr.endswith(": offline eval ok\n")


def test_order_gate(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    with unchanged(project, "prod"):
        result = cli(project, "promote", MODEL, "--from", "dev", "--to", "prod", "--version", version, "--yes")
    assert result.exit_code == 1
    assert (
        "  - order gate: environments are promoted in order (dev -> staging -> prod); the next environment "
        "after dev is staging, not prod, and no environment is skipped on the way into production (prod)\n"
    ) in result.stderr
    # --skip-order does not open the way into production, and prod still needs approval in staging
    with unchanged(project, "prod"):
        result = cli(
            project,
            "promote",
            MODEL,
            "--from",
            "dev",
            "--to",
            "prod",
            "--version",
            version,
            "--yes",
            "--skip-order",
            "--reason",
            "hotfix",
        )
    assert result.exit_code == 1
    assert "and no environment is skipped on the way into production (prod)" in result.stderr
    assert "approval gate: prod requires" in result.stderr


def test_emulator_stopped_mid_run(
    project: Path, artifact: Path, good_metrics: Path, tmp_path: Path, emulator: Emulator
) -> None:
    version = register(project, artifact, good_metrics)
    marker = tmp_path / "checkpoint"
    marker.mkdir()
    before_file, before_ledger = sha256(stack_file(project, "staging")), ledger_items("staging")
    process = subprocess.Popen(
        command(project, *PROMOTE, "--version", version),
        env=environ(MLPLATFORM_CHECKPOINT=f"before-copy:{marker}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stopped = False
    try:
        wait_for(marker / "reached", process)
        emulator.stop()
        stopped = True
        (marker / "release").touch()
        _out, err = process.communicate(timeout=120)
    finally:
        if stopped:
            emulator.restart()  # same port, same in-process state
    assert process.returncode == 1
    assert f"error: staging: copying {MODEL} {version}: cannot reach AWS (" in err
    assert "check the network or AWS_ENDPOINT_URL" in err
    assert "Traceback" not in err
    assert sha256(stack_file(project, "staging")) == before_file
    assert ledger_items("staging") == before_ledger
    # the lock could not be released while the endpoint was down: reported, then removable
    assert "warning: staging: releasing lock" in err
    assert cli(project, "unlock", MODEL, "--env", "staging", "--force").exit_code == 0
    assert run(project, *PROMOTE, "--version", version).returncode == 0
    assert stack_version(project, "staging") == version


@pytest.mark.parametrize(
    ("point", "said"),
    [
        ("before-copy", "interrupted: nothing was changed\n"),
        (
            "before-stack-file",
            "interrupted: the artifact was copied to s3://fraud-staging-model-registry-123456789012/models/fraud-xgb/1/"
            "model.tar.gz (deployments do not see it yet). Run `mlplatform promote fraud-xgb --from dev --to staging "
            "--version 1` again\n",
        ),
    ],
)
def test_ctrl_c_says_what_state_was_left(
    project: Path, artifact: Path, good_metrics: Path, tmp_path: Path, point: str, said: str
) -> None:
    version = register(project, artifact, good_metrics)
    marker = tmp_path / "checkpoint"
    marker.mkdir()
    with unchanged(project):
        process = subprocess.Popen(
            command(project, *PROMOTE, "--version", version),
            env=environ(MLPLATFORM_CHECKPOINT=f"{point}:{marker}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(marker / "reached", process)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.endswith(said), err
    assert "Traceback" not in err
    # the lock was released on the way out, and running it again completes the promotion
    done = cli(project, *PROMOTE, "--version", version)
    assert done.exit_code == 0, done.stderr
    assert stack_version(project, "staging") == version


def test_status_fails_when_a_ledger_cannot_be_read(project: Path) -> None:
    name = naming.Names("fraud", "prod").ssm_parameter(naming.SSM_LEDGER_TABLE)
    boto3.client("ssm").delete_parameter(Name=name)
    for pattern in ("Pulumi.recs-*.yaml", "Pulumi.search-*.yaml"):  # the other example platforms
        for stack in (project / "stacks").glob(pattern):
            stack.unlink()
    result = cli(project, "status", "--env", "prod", "--json", person="alice")
    assert result.exit_code == 1
    assert (
        f"error: prod (fraud) fraud-xgb: ledger not read: prod: SSM parameter {name} not found in us-east-1; has "
        "`pulumi up -s prod` run (or `mlplatform sandbox` for a local try)?\n"
    ) in result.stderr
    row = json.loads(result.stdout)["environments"]["prod"]["fraud-xgb"]
    assert row["ledger_verified"] is False and row["ledger_error"].startswith("prod: SSM parameter")
