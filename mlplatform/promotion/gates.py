"""Promotion gates. Every gate is checked before anything changes, and every failure is
reported, so one run tells the user all that stands between the version and the environment.

The rules are plain functions over plain values (unit-tested without AWS); `check_*` functions
gather those values from AWS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mlplatform import naming
from mlplatform.promotion import artifacts, baselines
from mlplatform.promotion import manifest as manifests
from mlplatform.promotion.aws import Aws, aws_errors
from mlplatform.promotion.errors import PromotionError
from mlplatform.spec.environments import is_production

if TYPE_CHECKING:
    from mlplatform.promotion.manifest import Manifest
    from mlplatform.spec.model_endpoint import MetricGates


@dataclass
class GateReport:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def check(self, name: str, failures: list[str]) -> None:
        if failures:
            self.failed.extend(failures)
        else:
            self.passed.append(name)


# --- rules --------------------------------------------------------------------------------
def metric_failures(
    metrics: dict[str, float], gates: list[tuple[str, MetricGates]], env: str, model: str, version: str
) -> list[str]:
    """Each threshold of each endpoint serving the model in `env` that the metrics do not meet."""
    failures: list[str] = []
    for endpoint, gate in gates:
        for bound, limits, ok in (
            (">=", gate.minimum, lambda v, lim: v >= lim),
            ("<=", gate.maximum, lambda v, lim: v <= lim),
        ):
            for metric, limit in sorted(limits.items()):
                where = f"endpoint '{endpoint}' in {env} requires {metric} {bound} {limit:g}"
                value = metrics.get(metric)
                if value is None:
                    failures.append(f"metric gate: {where}; {model} {version} has no {metric} recorded")
                elif not isinstance(value, int | float) or math.isnan(value) or not ok(value, limit):
                    failures.append(f"metric gate: {where}; {model} {version} has {metric}={_fmt(value)}")
    return failures


def _fmt(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else repr(value)


def order_failure(order: list[str], source: str, target: str, skip_order: bool, reason: str | None) -> str | None:
    if source == target:
        return f"order gate: source and target are both {source}"
    for env in (source, target):
        if env not in order:
            return f"order gate: {env} is not an environment of the platform ({', '.join(order)})"
    if order.index(target) == order.index(source) + 1:
        return None
    expected = order[order.index(source) + 1] if order.index(source) + 1 < len(order) else None
    nxt = f"the next environment after {source} is {expected}" if expected else f"{source} is the last environment"
    if is_production(target):
        return (
            f"order gate: environments are promoted in order ({' -> '.join(order)}); {nxt}, not {target}, "
            f"and no environment is skipped on the way into production ({target})"
        )
    if skip_order:
        if not reason or not reason.strip():
            return "order gate: --skip-order needs --reason saying why"
        return None
    return (
        f"order gate: environments are promoted in order ({' -> '.join(order)}); {nxt}, not {target} "
        "(use --skip-order --reason TEXT to override)"
    )


def alarm_failures(env: str, states: dict[str, str | None]) -> list[str]:
    failures = []
    for name, state in sorted(states.items()):
        if state is None:
            failures.append(f"alarm gate: alarm {name} of {env} does not exist; is monitoring deployed?")
        elif state == "ALARM":
            failures.append(f"alarm gate: alarm {name} in {env} is in ALARM")
    return failures


# --- checks against AWS ---------------------------------------------------------------------
def check_artifact(aws: Aws, model: str, version: str) -> tuple[Manifest | None, list[str]]:
    """The version's manifest in this environment and whether the stored artifact matches it."""
    found = manifests.read(aws, model, version)
    if found is None:
        known = [v for v in manifests.versions(aws, model) if manifests.read(aws, model, v) is not None]
        have = f"registered versions there: {', '.join(known)}" if known else "no versions are registered there"
        return None, [f"version gate: {model} version {version} does not exist in {aws.env.name} ({have})"]
    try:
        artifacts.verify(aws.s3, aws.registry_bucket, found.key, found.digest, f"{aws.env.name}: {model} {version}")
    except PromotionError as exc:
        return found, [f"checksum gate: {exc}"]
    failures = []
    for name, digest in sorted((found.baseline or {}).items()):
        stored = baselines.fetch(aws, aws.registry_bucket, model, version, name)
        if stored != digest:
            what = "is missing" if stored is None else f"has SHA-256 {stored}"
            failures.append(
                f"checksum gate: {aws.env.name}: {model} {version}'s baseline {name} {what}, not the {digest} its "
                "manifest records"
            )
    return found, failures


def alarm_names(aws: Aws, model: str) -> list[str]:
    """Alarms of the endpoints serving `model`: from SSM (what the components deployed), or
    the names the monitoring components give them (naming.Names.alarm)."""
    from mlplatform.spec.monitoring import MonitoringStack

    names: list[str] = []
    env = aws.env
    for endpoint in env.endpoints_of(model):
        listed = aws.endpoint_alarms(endpoint.name)
        if listed:
            names.extend(listed)
            continue
        watched = any(endpoint.name in m.endpoints and m.target == "aws" for m in env.platform.of_kind(MonitoringStack))
        if watched:
            names.extend(env.names.alarm(endpoint.name, metric) for metric in naming.PROMOTION_GATE_ALARM_METRICS)
    return names


def check_alarms(aws: Aws, model: str) -> list[str]:
    names = alarm_names(aws, model)
    if not names:
        return []
    states: dict[str, str | None] = dict.fromkeys(names)
    cw = aws.client("cloudwatch")
    with aws_errors(f"{aws.env.name}: reading CloudWatch alarms"):
        for start in range(0, len(names), 100):
            for alarm in cw.describe_alarms(AlarmNames=names[start : start + 100]).get("MetricAlarms", []):
                states[alarm["AlarmName"]] = alarm["StateValue"]
    return alarm_failures(aws.env.name, states)
