"""The bypasses a threat-model review reproduced, each refused or detected, with the message a
user sees. Two people: bob (promoter) and alice (approver), IAM users assuming the duty roles.

What the emulator cannot show: moto evaluates no IAM policies, trust policies or resource
policies by default (and its bucket-policy check ignores conditions), so the direct API calls
below succeed here where AWS would deny most of them (tests/components/aws/test_access_roles.py
asserts those documents against the documented actions and condition keys). These tests show
the second line: what the CLI and the deploy refuse or detect even when a write got through.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import boto3
import pytest

from mlplatform import naming
from tests.integration.conftest import (
    IMAGE,
    MODEL,
    approve,
    cli,
    ledger_items,
    register,
    registry,
    sha256,
    stack_file,
    stack_version,
)

PROD = ("promote", MODEL, "--from", "staging", "--to", "prod", "--yes")
OTHER_IMAGE = "999999999999.dkr.ecr.us-east-1.amazonaws.com/evil@sha256:" + "e" * 64


def _to_staging(project: Path, artifact: Path, metrics: Path) -> str:
    version = register(project, artifact, metrics)
    done = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version)
    assert done.exit_code == 0, done.stderr
    return version


def _approved_in_staging(project: Path, artifact: Path, metrics: Path) -> str:
    version = _to_staging(project, artifact, metrics)
    assert approve(project, version).exit_code == 0
    return version


# --- self-approval -----------------------------------------------------------------------------
def test_self_approval_is_refused(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = _to_staging(project, artifact, good_metrics)
    # --by is no longer free text: it must be who AWS says is calling
    claimed = approve(project, version, "staging", "bob", "--by", "alice")
    assert claimed.exit_code == 1
    assert claimed.stderr == (
        "error: --by alice does not match your AWS identity: you are bob "
        "(arn:aws:sts::123456789012:assumed-role/fraud-staging-approver/bob). The ledger records who AWS says is "
        "calling; omit --by, or run with alice's credentials\n"
    )
    # bob approves his own version (here he could take the approver role: AWS would refuse it him
    # when, as it should, only approvers may assume it) ...
    assert approve(project, version, "staging", "bob").exit_code == 0
    before = sha256(stack_file(project, "prod"))
    # ... and promotes it: refused, whatever he claims with the old --approved-by
    for extra in ((), ("--approved-by", "alice")):
        result = cli(project, *PROD, "--version", version, *extra)
        assert result.exit_code == 1
    assert "error: --approved-by alice does not match your AWS identity" in result.stderr
    result = cli(project, *PROD, "--version", version)
    assert result.stderr == (
        f"error: promote {MODEL} {version} staging -> prod: 1 gate failed, nothing was changed:\n"
        f"  - approval gate: {MODEL} {version} was approved in staging by bob, who is promoting it: prod needs an "
        "approver other than the promoter\n"
    )
    assert sha256(stack_file(project, "prod")) == before and ledger_items("prod") == []
    # an approver other than the promoter opens the gate
    assert approve(project, version).exit_code == 0
    assert cli(project, *PROD, "--version", version).exit_code == 0


# --- approval not bound to content ---------------------------------------------------------------
def test_bytes_replaced_after_approval_do_not_pass(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = _approved_in_staging(project, artifact, good_metrics)
    s3 = boto3.client("s3")
    bucket, key = registry("staging"), naming.artifact_key(MODEL, version, "model.tar.gz")
    forged = b"other bytes" * 1000
    # bob overwrites the approved artifact and its manifest, consistently, with another image
    s3.put_object(Bucket=bucket, Key=key, Body=forged, ChecksumAlgorithm="SHA256")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=naming.manifest_key(MODEL, version))["Body"].read())
    new_sha = hashlib.sha256(forged).hexdigest()
    manifest.update(sha256=new_sha, size=len(forged), part_sha256=[new_sha], image=OTHER_IMAGE)
    s3.put_object(Bucket=bucket, Key=naming.manifest_key(MODEL, version), Body=json.dumps(manifest))
    result = cli(project, *PROD, "--version", version)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: promote {MODEL} {version} staging -> prod: 1 gate failed, nothing was changed:\n"
        f"  - approval gate: the approval of {MODEL} {version} in staging by alice covers sha256 {sha256(artifact)} "
        f"and image {IMAGE}; what is being promoted has sha256 {new_sha} and image {OTHER_IMAGE}: the artifact or "
        f"its manifest changed after approval; an approver runs `mlplatform approve {MODEL} --env staging "
        f"--version {version} --reason TEXT` again\n"
    )
    assert ledger_items("prod") == []


def test_skip_order_cannot_carry_an_unrelated_version_into_prod(
    project: Path, artifact: Path, good_metrics: Path, tmp_path: Path
) -> None:
    dev_version = register(project, artifact, good_metrics)
    other = tmp_path / "other.tar.gz"
    other.write_bytes(b"registered straight into staging" * 100)
    staging = cli(
        project,
        "register",
        MODEL,
        "--env",
        "staging",
        "--artifact",
        str(other),
        "--image",
        IMAGE,
        "--metrics",
        str(good_metrics),
        "--json",
    )
    assert staging.exit_code == 0, staging.stderr
    assert json.loads(staging.stdout)["version"] == dev_version  # same number, other bytes
    assert approve(project, dev_version).exit_code == 0
    result = cli(
        project,
        "promote",
        MODEL,
        "--from",
        "dev",
        "--to",
        "prod",
        "--version",
        dev_version,
        "--yes",
        "--skip-order",
        "--reason",
        "hotfix",
    )
    assert result.exit_code == 1
    assert "and no environment is skipped on the way into production (prod)" in result.stderr
    assert (
        f"  - approval gate: the approval of {MODEL} {dev_version} in staging by alice covers sha256 {sha256(other)}"
    ) in result.stderr
    assert f"what is being promoted has sha256 {sha256(artifact)}" in result.stderr
    assert ledger_items("prod") == []


# --- forged approval ---------------------------------------------------------------------------
def test_a_package_set_approved_outside_approve_does_not_count(
    project: Path, artifact: Path, good_metrics: Path
) -> None:
    version = _to_staging(project, artifact, good_metrics)
    sm = boto3.client("sagemaker")
    group = f"fraud-staging-{MODEL}"
    arn = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"][0]["ModelPackageArn"]
    props = sm.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", CustomerMetadataProperties=props)
    result = cli(project, *PROD, "--version", version)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: promote {MODEL} {version} staging -> prod: 1 gate failed, nothing was changed:\n"
        f"  - approval gate: {MODEL} {version} is Approved on its model package in staging, but no approver "
        "recorded an approval in the staging ledger; a package created or set Approved outside `mlplatform "
        f"approve` does not count: an approver runs `mlplatform approve {MODEL} --env staging --version {version} "
        "--reason TEXT`\n"
    )


def test_a_package_created_already_approved_is_detected(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = _to_staging(project, artifact, good_metrics)
    sm = boto3.client("sagemaker")
    forged = sm.create_model_package(
        ModelPackageGroupName=f"fraud-staging-{MODEL}",
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": OTHER_IMAGE, "ModelDataUrl": "s3://elsewhere/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        CustomerMetadataProperties={naming.MODEL_PACKAGE_VERSION_PROPERTY: version},
    )["ModelPackageArn"]
    result = cli(project, *PROD, "--version", version)
    assert result.exit_code == 1
    assert f"error: staging: 2 model packages in fraud-staging-{MODEL} claim to be {MODEL} {version}: " in result.stderr
    assert f"{forged} (Approved)" in result.stderr
    assert "mlplatform creates one per version, so the others were created by hand" in result.stderr
    assert ledger_items("prod") == []


# --- ledger rewrite ----------------------------------------------------------------------------
def test_a_rewritten_ledger_entry_is_detected_and_history_shows_the_record(
    project: Path, artifact: Path, good_metrics: Path
) -> None:
    version = _approved_in_staging(project, artifact, good_metrics)
    assert cli(project, *PROD, "--version", version, "--reason", "weekly release").exit_code == 0
    item = ledger_items("prod")[0]
    entry = json.loads(item["entry"]["S"])
    entry.update(by="mallory", reason="nothing to see")
    item["entry"] = {"S": json.dumps(entry, sort_keys=True, separators=(",", ":"))}
    boto3.client("dynamodb").put_item(TableName=naming.Names("fraud", "prod").ledger_table(), Item=item)

    history = cli(project, "history", MODEL, "--env", "prod", person="alice")
    assert history.exit_code == 1
    # the write-once record, not the rewrite
    # prod names no version before this first promotion, so the entry records none it replaced.
    assert "by bob (from staging; approved by alice in staging; reason: weekly release)" in history.stdout
    assert "mallory" not in history.stdout
    assert (
        "ledger: prod: promotion ledger of fraud-xgb: entry 1 in table fraud-prod-promotion-ledger differs from its "
        "write-once copy s3://fraud-prod-ledger-archive-123456789012/ledger/fraud-xgb/promotion/0000000001.json: "
        "by 'bob' (recorded) -> 'mallory' (table); reason 'weekly release' (recorded) -> 'nothing to see' (table)\n"
    ) in history.stderr
    as_json = json.loads(cli(project, "history", MODEL, "--env", "prod", "--json").stdout)
    assert as_json["error"]["exit_code"] == 1 and as_json["entries"][0]["by"] == "bob"

    status = cli(project, "status", "--env", "prod", "--json", person="alice")
    assert status.exit_code == 1
    row = json.loads(status.stdout)["environments"]["prod"][MODEL]
    assert row["ledger_verified"] is False and "differs from its write-once copy" in row["problems"][0]

    # writers refuse a ledger that does not verify
    rollback = cli(project, "rollback", MODEL, "--env", "prod", "--version", "5", "--yes")
    assert rollback.exit_code == 1
    assert rollback.stderr.startswith(
        "error: prod: the promotion ledger of fraud-xgb was changed outside mlplatform:\n  - entry 1 in table "
    )
    assert rollback.stderr.endswith(
        "reading it is refused until it is investigated and restored from the write-once copy "
        "(docs/security.md, 'When the ledger does not verify')\n"
    )


def test_a_planted_high_sort_key_is_reported_and_blocks_nothing(
    project: Path, artifact: Path, good_metrics: Path
) -> None:
    first = _to_staging(project, artifact, good_metrics)
    planted = {
        naming.LEDGER_PARTITION_KEY: {"S": naming.ledger_partition(MODEL)},
        naming.LEDGER_SORT_KEY: {"S": "9999999999"},
        "entry": {"S": json.dumps({"action": "promote", "version": "666", "by": "mallory"})},
    }
    boto3.client("dynamodb").put_item(TableName=naming.Names("fraud", "staging").ledger_table(), Item=planted)
    second = register(project, artifact, good_metrics)
    done = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", second)
    assert done.exit_code == 0, done.stderr
    assert [json.loads(i["entry"]["S"]).get("version") for i in ledger_items("staging")] == [first, second, "666"]
    history = cli(project, "history", MODEL, "--env", "staging")
    assert history.exit_code == 1
    assert (
        "ledger: staging: promotion ledger of fraud-xgb: item with sort key 9999999999 in table "
        "fraud-staging-promotion-ledger is not entry 3 (the next one) of the chain: ignored, it was not written "
        "by mlplatform (promote 666 by mallory)\n"
    ) in history.stderr
    # history lists the chain's two entries and not the planted one (matched by field: timestamps hold digits)
    listed = [line.split()[4] for line in history.stdout.splitlines() if line.strip()]
    assert listed == [first, second]


def test_write_once_copies_cannot_be_deleted_and_overwrites_are_detected(
    project: Path, artifact: Path, good_metrics: Path
) -> None:
    _to_staging(project, artifact, good_metrics)
    s3 = boto3.client("s3")
    archive = naming.Names("fraud", "staging").ledger_archive_bucket("123456789012")
    key = naming.ledger_archive_key(MODEL, "promotion", 1)
    # the archive's bucket policy denies deletes to everyone; the emulator enforces that statement
    with pytest.raises(s3.exceptions.ClientError, match=r"\(403\) when calling the DeleteObject operation: Forbidden"):
        s3.delete_object(Bucket=archive, Key=key)
    # an overwrite without If-None-Match would be denied by AWS; here it lands as a second version
    original = s3.get_object(Bucket=archive, Key=key)["Body"].read()
    s3.put_object(Bucket=archive, Key=key, Body=original.replace(b'"bob"', b'"eve"'), ChecksumAlgorithm="SHA256")
    history = cli(project, "history", MODEL, "--env", "staging")
    assert history.exit_code == 1
    assert (
        f"write-once copy s3://{archive}/{key} has 2 versions or a delete marker: something tried to overwrite or "
        "delete it"
    ) in history.stderr
    assert "by bob" in history.stdout  # the first version is the record


# --- registry integrity --------------------------------------------------------------------------
def test_a_promoted_artifact_cannot_be_deleted(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = _to_staging(project, artifact, good_metrics)
    s3 = boto3.client("s3")
    with pytest.raises(s3.exceptions.ClientError, match=r"\(403\) when calling the DeleteObject operation: Forbidden"):
        s3.delete_object(Bucket=registry("staging"), Key=naming.artifact_key(MODEL, version, "model.tar.gz"))


def test_a_preplanted_object_in_the_target_registry_is_not_taken_for_the_copy(
    project: Path, artifact: Path, good_metrics: Path
) -> None:
    version = register(project, artifact, good_metrics)
    boto3.client("s3").put_object(
        Bucket=registry("staging"),
        Key=naming.artifact_key(MODEL, version, "model.tar.gz"),
        Body=b"planted",
        ChecksumAlgorithm="SHA256",
    )
    before = sha256(stack_file(project, "staging"))
    result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version)
    assert result.exit_code == 1
    assert (
        f"s3://{registry('staging')}/models/{MODEL}/{version}/model.tar.gz already exists; registry keys are "
        "write-once, so it was not replaced: it does not match"
    ) in result.stderr
    assert sha256(stack_file(project, "staging")) == before and ledger_items("staging") == []


def test_ssm_pointing_at_another_bucket_is_refused(project: Path, artifact: Path, good_metrics: Path) -> None:
    version = register(project, artifact, good_metrics)
    name = naming.Names("fraud", "staging").ssm_parameter(naming.SSM_REGISTRY_BUCKET)
    boto3.client("ssm").put_parameter(Name=name, Value="attacker-bucket", Type="String", Overwrite=True)
    result = cli(project, "promote", MODEL, "--from", "dev", "--to", "staging", "--version", version)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: staging: SSM parameter {name} is 'attacker-bucket', but the platform names it "
        "'fraud-staging-model-registry-123456789012' in account 123456789012; refusing to use it (was the parameter "
        "changed by hand, or is this the wrong account?)\n"
    )


def test_images_are_pinned_by_digest(project: Path, artifact: Path, good_metrics: Path) -> None:
    tagged = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    result = cli(project, "register", MODEL, "--env", "dev", "--artifact", str(artifact), "--image", tagged)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: {MODEL}: image {tagged} is not pinned by digest: a tag can later point at other bytes than the "
        "ones approved. Pass --image 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost@sha256:<digest>"
    )
    into_prod = cli(project, "register", MODEL, "--env", "prod", "--artifact", str(artifact), "--image", IMAGE)
    assert into_prod.exit_code == 1
    assert into_prod.stderr == (
        "error: prod is production: versions enter it only by promotion, with its gates and approval; register "
        "into dev and promote\n"
    )


# --- hand-edited stack file ----------------------------------------------------------------------
def test_a_hand_edited_stack_file_is_drift_and_the_deploy_refuses_it(
    project: Path, artifact: Path, good_metrics: Path
) -> None:
    from mlplatform.promotion import deployed
    from mlplatform.stack_config import read

    version = _approved_in_staging(project, artifact, good_metrics)
    assert cli(project, *PROD, "--version", version).exit_code == 0
    path = stack_file(project, "prod")
    # what `pulumi up -s prod` checks with credentials (mlplatform.program.verify_against_ledger)
    assert deployed.problems(project, "prod", read(path).models) == []
    text = path.read_text()
    path.write_text(text.replace(registry("prod"), "attacker-models").replace(IMAGE, OTHER_IMAGE))
    status = cli(project, "status", "--env", "prod", "--json", person="alice")
    assert status.exit_code == 1
    data = json.loads(status.stdout)
    assert data["ok"] is False
    drift = data["environments"]["prod"][MODEL]["drift"]
    assert drift == [
        f"uri: the stack file has s3://attacker-models/models/{MODEL}/{version}/model.tar.gz, the ledger has "
        f"s3://{registry('prod')}/models/{MODEL}/{version}/model.tar.gz",
        f"image: the stack file has {OTHER_IMAGE}, the ledger has {IMAGE}",
    ]
    table = cli(project, "status", "--env", "prod", person="alice")
    assert table.exit_code == 1 and f"drift: prod {MODEL}: uri: the stack file has s3://attacker-models" in table.stderr
    assert stack_version(project, "prod") == version  # same version: a versions-only comparison saw nothing
    refused = deployed.problems(project, "prod", read(path).models)
    assert refused == [
        f"mlplatform:models.{MODEL}.uri is s3://attacker-models/models/{MODEL}/{version}/model.tar.gz, the prod "
        f"ledger's head (entry 1, promote by bob) has s3://{registry('prod')}/models/{MODEL}/{version}/model.tar.gz",
        f"mlplatform:models.{MODEL}.image is {OTHER_IMAGE}, the prod ledger's head (entry 1, promote by bob) has "
        f"{IMAGE}",
    ]


# --- code execution by a stack file -----------------------------------------------------------
EVIL = """
import pathlib
pathlib.Path({marker!r}).write_text("ran")
from mlplatform import ModelEndpoint, Platform
platform = Platform(name="evil", team="x", environments=["dev", "evil"],
                    components=[ModelEndpoint(name="scorer", model="fraud-xgb", target="sagemaker")])
"""


def test_commands_that_need_names_never_run_a_blueprint(project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (project / "blueprints" / "evil.py").write_text(EVIL.format(marker=str(marker)))
    (project / "stacks" / "Pulumi.evil.yaml").write_text("config:\n  mlplatform:blueprint: blueprints/evil.py\n")
    outside = tmp_path / "outside.py"
    outside.write_text(EVIL.format(marker=str(marker)))
    (project / "stacks" / "Pulumi.outside.yaml").write_text(f"config:\n  mlplatform:blueprint: {outside}\n")
    for args in (
        ("history", MODEL, "--env", "staging"),
        ("status", "--env", "evil"),
        ("status",),
        ("approve", MODEL, "--env", "evil", "--version", "1", "--reason", "x"),
        ("unlock", MODEL, "--env", "evil"),
    ):
        cli(project, *args, person="alice")
        assert not marker.exists(), args
    status = cli(project, "status", person="alice")
    assert status.exit_code == 1
    assert (
        f"warning: skipped {project / 'stacks' / 'Pulumi.outside.yaml'}: mlplatform:blueprint {outside} is outside "
        f"the project {project}; a blueprint is code that runs with your credentials, so only files inside the "
        "project are used\n"
    ) in status.stderr
    refused = cli(project, "status", "--env", "outside", person="alice")
    assert refused.exit_code == 1 and "is outside the project" in refused.stderr


# --- unlock ------------------------------------------------------------------------------------------
def test_unlock_never_removes_a_live_lock_held_on_another_host(project: Path) -> None:
    from mlplatform.promotion.ledger import now

    body = {"operation": "promote elsewhere", "user": "carol", "host": "ci-runner-7", "pid": 4242, "at": now()}
    s3 = boto3.client("s3")
    s3.put_object(Bucket=registry("staging"), Key=naming.lock_key(MODEL), Body=json.dumps({**body, "heartbeat": now()}))
    result = cli(project, "unlock", MODEL, "--env", "staging", "--force")
    assert result.exit_code == 1
    assert re.search(
        r"on another host, whose heartbeat is \d+ s old: it is alive as far as can be known from here, and a live "
        r"lock is never removed\. A lock whose heartbeat is older than 90 s is stale and can be removed\n$",
        result.stderr,
    ), result.stderr
    stale = {**body, "at": "2020-01-01T00:00:00.000000Z", "heartbeat": "2020-01-01T00:00:30.000000Z"}
    s3.put_object(Bucket=registry("staging"), Key=naming.lock_key(MODEL), Body=json.dumps(stale))
    removed = cli(project, "unlock", MODEL, "--env", "staging", "--force", "--json")
    assert removed.exit_code == 0, removed.stderr
    assert json.loads(removed.stdout)["removed"]["host"] == "ci-runner-7"
