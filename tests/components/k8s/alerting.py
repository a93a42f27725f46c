"""promtool and amtool over what the MonitoringStack renders.

- Rules: the PrometheusRule's groups are a Prometheus rule file as they stand; `promtool check
  rules` parses them and `promtool test rules` evaluates them on sample series.
- Routing: the Alertmanager configuration the Prometheus Operator would generate from the
  AlertmanagerConfig, merged into kube-prometheus-stack's default configuration, as the
  operator's ConfigBuilder does it (prometheus-operator pkg/alertmanager/amcfg.go):
  `convertRoute` prefixes the receiver with `<namespace>/<name>/`, the namespace enforcer (the
  default OnNamespace matcher strategy) appends `namespace="<namespace>"` to the route's
  matchers, `continueToNextRoute` sets `continue: true`, and the routes go before the base
  configuration's. `convertEmailConfig` refuses an email receiver without a smarthost or a
  sender, here as there.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from mlplatform.plan.engine import Captured

# kube-prometheus-stack's default `alertmanager.config` (charts/kube-prometheus-stack/values.yaml).
KUBE_PROMETHEUS_STACK_CONFIG: dict[str, Any] = {
    "global": {"resolve_timeout": "5m"},
    "inhibit_rules": [
        {
            "source_matchers": ["severity = critical"],
            "target_matchers": ["severity =~ warning|info"],
            "equal": ["namespace", "alertname"],
        },
        {
            "source_matchers": ["severity = warning"],
            "target_matchers": ["severity = info"],
            "equal": ["namespace", "alertname"],
        },
        {
            "source_matchers": ["alertname = InfoInhibitor"],
            "target_matchers": ["severity = info"],
            "equal": ["namespace"],
        },
        {"target_matchers": ["alertname = InfoInhibitor"]},
    ],
    "route": {
        "group_by": ["namespace"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "12h",
        "receiver": "null",
        "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}],
    },
    "receivers": [{"name": "null"}],
}


class OperatorRefuses(Exception):
    """What the operator's ConfigBuilder returns as an error (it then rejects the configuration)."""


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, (
        f"{name} is not installed; scripts/setup installs it (Debian package prometheus / prometheus-alertmanager)"
    )
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)


# --- rules --------------------------------------------------------------------------------
def rule_groups(captured: Captured, component: str = "monitoring") -> list[dict[str, Any]]:
    """The groups of the one PrometheusRule of `component` (monitoring: the endpoints';
    training: the training alerts)."""
    rules = [
        r
        for r in captured.resources
        if r.type == "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
        and r.inputs["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    assert len(rules) == 1, [r.name for r in rules]
    groups: list[dict[str, Any]] = rules[0].inputs["spec"]["groups"]
    return groups


def alerts(captured: Captured) -> dict[tuple[str, str], dict[str, Any]]:
    """(group, alert) -> rule."""
    return {(g["name"], r["alert"]): r for g in rule_groups(captured) for r in g["rules"]}


def write_rules(folder: Path, captured: Captured) -> Path:
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule_groups(captured)}, sort_keys=False), encoding="utf-8")
    return path


# --- routing ------------------------------------------------------------------------------
def _namespaced(name: str, namespace: str, cr: str) -> str:
    return f"{namespace}/{cr}/{name}"  # amcfg.go makeNamespacedString


def _matcher(m: dict[str, Any]) -> str:
    return f'{m["name"]}{m.get("matchType", "=")}"{m["value"]}"'  # v1alpha1 Matcher.String()


def _email(config: dict[str, Any], secrets: dict[tuple[str, str], str], namespace: str) -> dict[str, Any]:
    if not config.get("smarthost"):
        raise OperatorRefuses(
            "SMTP smarthost is a mandatory field, it is neither specified at global config nor at receiver level"
        )
    if not config.get("from"):
        raise OperatorRefuses(
            "SMTP from is a mandatory field, it is neither specified at global config nor at receiver level"
        )
    out: dict[str, Any] = {
        "send_resolved": config.get("sendResolved", False),
        "to": config["to"],
        "from": config["from"],
    }
    out["smarthost"] = config["smarthost"]
    if "authUsername" in config:
        out["auth_username"] = config["authUsername"]
    if "authPassword" in config:
        ref = config["authPassword"]
        key = (ref["name"], ref["key"])
        if key not in secrets:
            raise OperatorRefuses(
                f"failed to get auth password: secret {namespace}/{ref['name']} key {ref['key']} not found"
            )
        out["auth_password"] = secrets[key]
    if "requireTLS" in config:
        out["require_tls"] = config["requireTLS"]
    return out


def operator_config(amconfig: dict[str, Any], *, secrets: dict[tuple[str, str], str] | None = None) -> dict[str, Any]:
    """The Alertmanager configuration the operator builds from one AlertmanagerConfig object
    (as rendered: apiVersion, kind, metadata, spec) on top of kube-prometheus-stack's default."""
    namespace, cr = amconfig["metadata"]["namespace"], amconfig["metadata"]["name"]
    spec = amconfig["spec"]
    config = yaml.safe_load(yaml.safe_dump(KUBE_PROMETHEUS_STACK_CONFIG))
    receivers = []
    for receiver in spec["receivers"]:
        out: dict[str, Any] = {"name": _namespaced(receiver["name"], namespace, cr)}
        emails = [_email(e, secrets or {}, namespace) for e in receiver.get("emailConfigs", [])]
        if emails:
            out["email_configs"] = emails
        hooks = [
            {"send_resolved": w.get("sendResolved", False), "url": w["url"]} for w in receiver.get("webhookConfigs", [])
        ]
        if hooks:
            out["webhook_configs"] = hooks
        receivers.append(out)
    route = spec["route"]
    converted = {
        "receiver": _namespaced(route["receiver"], namespace, cr),
        "group_by": route.get("groupBy", []),
        "group_wait": route.get("groupWait", ""),
        "group_interval": route.get("groupInterval", ""),
        "repeat_interval": route.get("repeatInterval", ""),
        "matchers": [*map(_matcher, route.get("matchers", [])), f'namespace="{namespace}"'],
        "continue": True,
    }
    config["route"]["routes"] = [{k: v for k, v in converted.items() if v != ""}, *config["route"]["routes"]]
    config["receivers"].extend(receivers)
    return config


def write_alertmanager_config(folder: Path, config: dict[str, Any]) -> Path:
    path = folder / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def routes_to(config_file: Path, labels: dict[str, str]) -> list[str]:
    """The receivers amtool resolves an alert with `labels` to."""
    result = run(
        tool("amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={config_file}",
        *(f"{k}={v}" for k, v in labels.items()),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().split(",")
