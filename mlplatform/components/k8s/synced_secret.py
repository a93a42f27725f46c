"""A Kubernetes Secret kept in sync with an AWS Secrets Manager secret, by the External Secrets
Operator (external-secrets.io/v1): a SecretStore that authenticates as a service account with an
IAM role (IRSA), and an ExternalSecret that writes the target Secret and refreshes it hourly,
so a rotated value (RDS rotates its managed master password) reaches the cluster without a deploy.

The operator must run on the cluster; components that use this say so in the plan (`REQUIRES`).
The value never passes through Pulumi: neither its state nor a plan holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

API_VERSION = "external-secrets.io/v1"
REQUIRES = "External Secrets Operator (external-secrets.io/v1) on the cluster"
REFRESH = "1h"


@dataclass(frozen=True)
class SyncedSecretArgs:
    namespace: str
    secret_name: str  # the Kubernetes Secret written
    remote_key: pulumi.Input[str]  # Secrets Manager secret name or ARN
    region: str
    service_account: str  # whose IAM role (IRSA) reads the secret
    labels: dict[str, str] = field(default_factory=dict)
    # Secret key -> JSON property of the remote secret; empty: the whole value under `value_key`.
    properties: dict[str, str] = field(default_factory=dict)
    value_key: str = "value"
    # Extra keys computed from the fetched ones (ESO template, engine v2), e.g. a URL-encoded password.
    templated: dict[str, str] = field(default_factory=dict)


def synced_secret(
    parent: pulumi.Resource, name: str, a: SyncedSecretArgs, opts: pulumi.ResourceOptions
) -> tuple[k8s.apiextensions.CustomResource, k8s.apiextensions.CustomResource]:
    """(SecretStore, ExternalSecret) named `<secret_name>`, children of `parent`."""
    meta = {"name": a.secret_name, "namespace": a.namespace, "labels": dict(a.labels)}
    store = k8s.apiextensions.CustomResource(
        f"{name}-store",
        api_version=API_VERSION,
        kind="SecretStore",
        metadata=meta,
        spec={
            "provider": {
                "aws": {
                    "service": "SecretsManager",
                    "region": a.region,
                    "auth": {"jwt": {"serviceAccountRef": {"name": a.service_account}}},
                }
            }
        },
        opts=opts,
    )
    if a.properties:
        data: list[dict[str, Any]] = [
            {"secretKey": key, "remoteRef": {"key": a.remote_key, "property": prop}}
            for key, prop in sorted(a.properties.items())
        ]
    else:
        data = [{"secretKey": a.value_key, "remoteRef": {"key": a.remote_key}}]
    target: dict[str, Any] = {"name": a.secret_name, "creationPolicy": "Owner"}
    if a.templated:
        keys = {d["secretKey"]: "{{ ." + d["secretKey"] + " }}" for d in data}
        target["template"] = {"engineVersion": "v2", "data": {**keys, **a.templated}}
    external = k8s.apiextensions.CustomResource(
        f"{name}-external",
        api_version=API_VERSION,
        kind="ExternalSecret",
        metadata=meta,
        spec={
            "refreshInterval": REFRESH,
            "secretStoreRef": {"name": a.secret_name, "kind": "SecretStore"},
            "target": target,
            "data": data,
        },
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[store])),
    )
    return store, external
