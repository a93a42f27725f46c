"""Gate rules, checksums and rollback history, without AWS."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import sys

from mlplatform.promotion import artifacts, gates
from mlplatform.promotion.ledger import Entry
from mlplatform.promotion.operations import deployed_stack
from mlplatform.spec.model_endpoint import MetricGates

ORDER = ["dev", "staging", "prod"]
GATES = [("scorer", MetricGates(minimum={"auc": 0.9}, maximum={"logloss": 0.35}))]


def test_metric_gates_pass_at_the_bounds() -> None:
    assert gates.metric_failures({"auc": 0.9, "logloss": 0.35}, GATES, "staging", "m", "3") == []


def test_metric_gates_list_every_failure() -> None:
    assert gates.metric_failures({"auc": 0.89}, GATES, "staging", "m", "3") == [
        "metric gate: endpoint 'scorer' in staging requires auc >= 0.9; m 3 has auc=0.89",
        "metric gate: endpoint 'scorer' in staging requires logloss <= 0.35; m 3 has no logloss recorded",
    ]
    assert gates.metric_failures({"auc": float("nan"), "logloss": 0.1}, GATES, "prod", "m", "3") == [
        "metric gate: endpoint 'scorer' in prod requires auc >= 0.9; m 3 has auc=nan"
    ]


def test_no_metric_gates_means_no_failures() -> None:
    assert gates.metric_failures({}, [("scorer", MetricGates())], "dev", "m", "1") == []


def test_order_gate() -> None:
    assert gates.order_failure(ORDER, "dev", "staging", False, None) is None
    assert gates.order_failure(ORDER, "staging", "prod", False, None) is None
    assert gates.order_failure(ORDER, "dev", "prod", False, None) == (
        "order gate: environments are promoted in order (dev -> staging -> prod); the next environment after "
        "dev is staging, not prod, and no environment is skipped on the way into production (prod)"
    )
    assert gates.order_failure(ORDER, "prod", "staging", False, None) == (
        "order gate: environments are promoted in order (dev -> staging -> prod); prod is the last environment, "
        "not staging (use --skip-order --reason TEXT to override)"
    )
    # --skip-order never opens the way into production
    assert gates.order_failure(ORDER, "dev", "prod", True, "hotfix") == gates.order_failure(
        ORDER, "dev", "prod", False, None
    )
    four = ["dev", "qa", "staging", "prod"]
    assert (
        gates.order_failure(four, "dev", "staging", True, " ") == "order gate: --skip-order needs --reason saying why"
    )
    assert gates.order_failure(four, "dev", "staging", True, "qa is down") is None
    assert gates.order_failure(ORDER, "dev", "dev", False, None) == "order gate: source and target are both dev"
    assert gates.order_failure(ORDER, "dev", "qa", False, None) == (
        "order gate: qa is not an environment of the platform (dev, staging, prod)"
    )


def test_alarm_gate() -> None:
    assert gates.alarm_failures("dev", {"a": "OK", "b": "INSUFFICIENT_DATA"}) == []
    assert gates.alarm_failures("dev", {"b": "ALARM", "a": None}) == [
        "alarm gate: alarm a of dev does not exist; is monitoring deployed?",
        "alarm gate: alarm b in dev is in ALARM",
    ]


def test_one_definition_of_production_and_where_approval_happens() -> None:
    from mlplatform.spec.environments import approval_environment, is_production

    assert [e for e in ("dev", "staging", "prod", "production", "prodeu", "qa") if is_production(e)] == [
        "prod",
        "production",
        "prodeu",
    ]
    assert approval_environment(ORDER, "prod") == "staging"
    assert approval_environment(ORDER, "staging") is None
    # every production environment needs the approval made before the first of them
    assert approval_environment(["dev", "staging", "prodeu", "produs"], "produs") == "staging"
    assert approval_environment(["prod"], "prod") is None


def test_digest_matches_s3_checksums() -> None:
    part = artifacts.MIN_PART_SIZE
    data = bytes(range(256)) * (part * 2 // 256 + 100)
    digest = artifacts.hash_stream(io.BytesIO(data), len(data), part)
    assert digest.sha256 == hashlib.sha256(data).hexdigest() and digest.size == len(data)
    parts = [data[i : i + part] for i in range(0, len(data), part)]
    assert digest.part_sha256 == [hashlib.sha256(p).hexdigest() for p in parts]
    composite = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    assert digest.s3_checksum() == base64.b64encode(composite).decode() + "-3"
    small = artifacts.hash_stream(io.BytesIO(b"abc"), 3, part)
    assert small.s3_checksum() == base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    # a copy is always multipart: S3 reports the composite of one part (with -1; the emulator without)
    one_part = base64.b64encode(hashlib.sha256(hashlib.sha256(b"abc").digest()).digest()).decode()
    assert small.matches(f"{one_part}-1") and small.matches(one_part) and small.matches(small.s3_checksum())
    assert digest.matches(digest.s3_checksum()) and not digest.matches(small.s3_checksum())


def _entry(action: str, version: str) -> Entry:
    return Entry(action=action, model="m", version=version, env="prod", by="x", at="t")


def test_rollback_walks_back_through_promotions() -> None:
    entries = [_entry("promote", "1"), _entry("approve", "1"), _entry("promote", "2"), _entry("promote", "3")]
    assert deployed_stack(entries) == ["1", "2", "3"]
    assert deployed_stack([*entries, _entry("rollback", "2")]) == ["1", "2"]
    assert deployed_stack([*entries, _entry("rollback", "1")]) == ["1"]


def test_promotion_imports_no_pulumi_providers() -> None:
    code = (
        "import sys\n"
        "import mlplatform.promotion.operations, mlplatform.promotion.registry, mlplatform.promotion.sandbox\n"
        "import mlplatform.promotion.apply, mlplatform.cli.promote\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi_aws', 'pulumi_kubernetes', 'pulumi'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
