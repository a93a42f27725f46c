"""The feature_store.yaml Feast uses for one FeatureStore in one environment.

One renderer serves the FeatureStore components (their `<store>_feature_store_yaml` stack
output) and `mlplatform feast-config`, which writes the same text offline from the blueprint and
the stack file. Every value in it is a name the platform gives (mlplatform.naming), never a value
only the cloud knows, and never a secret: for Redis the password is `${FEAST_REDIS_PASSWORD}`,
which Feast expands from the environment when it loads the file (`os.path.expandvars` in
`feast.repo_config.load_repo_config`).

Imports no pulumi.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mlplatform import naming
from mlplatform.spec.feature_store import FeatureStore

REDIS_PORT = 6379
REDIS_PASSWORD_ENV = "FEAST_REDIS_PASSWORD"
REDIS_PASSWORD_KEY = "password"  # key of the password in the Redis Secret
ATHENA_CATALOG = "AwsDataCatalog"
ENTITY_KEY_SERIALIZATION_VERSION = 3
# How long Feast caches the registry it reads from S3 (Feast's default: 600 s), so a
# `feast apply` reaches serving within a minute.
REGISTRY_CACHE_TTL_SECONDS = 60
# Feast releases that find the platform's tables instead of creating them (DescribeTable before
# CreateTable, feast-dev/feast#5658) and go on when tagging or deleting is denied (#5673).
MIN_FEAST_VERSION = "0.56"


@dataclass(frozen=True)
class Target:
    """Where one environment of the platform runs."""

    names: naming.Names
    region: str
    account_id: str | None  # None: the platform has no AWS side (local registry, file offline store)
    tags: dict[str, str]  # of the FeatureStore's resources; Feast keeps them on its tables
    namespace: str | None = None  # of a kubernetes FeatureStore's Redis


def redis_host(names: naming.Names, store: str, namespace: str) -> str:
    return f"{names.redis(store)}.{namespace}.svc.cluster.local"


def redis_secret(names: naming.Names, store: str) -> str:
    return f"{names.redis(store)}-auth"


def config(spec: FeatureStore, t: Target) -> dict[str, object]:
    """feature_store.yaml as data (RepoConfig's fields), for `spec` in the environment `t`."""
    n = t.names
    if spec.target == "aws" and t.account_id is None:
        raise ValueError(f"FeatureStore '{spec.name}' (target aws) needs the AWS account id")
    out: dict[str, object] = {"project": n.feast_project(spec.name)}
    offline: dict[str, object]
    if t.account_id is not None:
        bucket = n.offline_store_bucket(spec.name, t.account_id)
        out["provider"] = "aws"
        out["registry"] = {
            "path": f"s3://{bucket}/{naming.FEAST_REGISTRY_KEY}",
            "cache_ttl_seconds": REGISTRY_CACHE_TTL_SECONDS,
        }
        offline = {
            "type": "athena",
            "region": t.region,
            "data_source": ATHENA_CATALOG,
            "database": n.glue_database(spec.name),
            "workgroup": n.athena_workgroup(spec.name),
            "s3_staging_location": f"s3://{bucket}/{naming.FEAST_STAGING_PREFIX.rstrip('/')}",
        }
    else:
        out["provider"] = "local"
        out["registry"] = "data/registry.db"
        offline = {"type": "file"}
    out["online_store"] = _online_store(spec, t)
    out["offline_store"] = offline
    out["entity_key_serialization_version"] = ENTITY_KEY_SERIALIZATION_VERSION
    return out


def _online_store(spec: FeatureStore, t: Target) -> dict[str, object] | None:
    if spec.online_store == "dynamodb":
        return {
            "type": "dynamodb",
            "region": t.region,
            "table_name_template": naming.FEAST_TABLE_NAME_TEMPLATE,
            # Feast diffs a table's tags against these on apply: the platform's tags stay.
            "tags": dict(t.tags),
        }
    if spec.online_store == "redis":
        if t.namespace is None:
            raise ValueError(f"FeatureStore '{spec.name}' (Redis) needs its namespace")
        host = redis_host(t.names, spec.name, t.namespace)
        redis: dict[str, object] = {
            "type": "redis",
            "redis_type": "redis",
            "connection_string": f"{host}:{REDIS_PORT},password=${{{REDIS_PASSWORD_ENV}}}",
        }
        if spec.online_ttl_days is not None:
            redis["key_ttl_seconds"] = spec.online_ttl_days * 86400
        return redis
    return None


def header(spec: FeatureStore, t: Target) -> list[str]:
    n = t.names
    lines = [
        f"feature_store.yaml of FeatureStore '{spec.name}', platform '{n.platform}', environment '{n.env}'.",
        "Written by mlplatform from the blueprint (mlplatform feast-config): change the blueprint, not this file.",
        f"Needs Feast {MIN_FEAST_VERSION} or later.",
    ]
    if spec.online_store == "dynamodb":
        tables = [n.feast_online_table(spec.name, v.name) for v in spec.online_views()]
        lines.append("Online tables the platform created, one per declared feature view:" + ("" if tables else " none"))
        lines += [f"  {t}" for t in tables]
    if spec.online_store == "redis":
        lines.append(
            f"Set {REDIS_PASSWORD_ENV} from Secret {redis_secret(n, spec.name)} "
            f"(key {REDIS_PASSWORD_KEY}) in namespace {t.namespace}."
        )
    return lines


def render(spec: FeatureStore, t: Target) -> str:
    """The file's text: a comment saying what it is for, then the config."""
    comment = "".join(f"# {line}\n" for line in header(spec, t))
    return comment + to_yaml(config(spec, t))


def to_yaml(value: dict[str, object], indent: int = 0) -> str:
    """Block-style YAML of nested mappings of scalars; strings are JSON-quoted (valid YAML)."""
    lines: list[str] = []
    pad = " " * indent
    for key, item in value.items():
        if isinstance(item, dict) and item:
            lines.append(f"{pad}{key}:")
            lines.append(to_yaml(item, indent + 2).rstrip("\n"))
        else:
            lines.append(f"{pad}{key}: {json.dumps(item)}")
    return "\n".join(lines) + "\n"
