"""The Feast config of one FeatureStore in one environment, from the blueprint and the stack file.

`pulumi up` exports the same text as the stack output `<store>_feature_store_yaml`; this builds it
offline (mlplatform.feast_config renders both), so a team can fetch it without the Pulumi CLI or
access to the stack's state. The one value neither file may hold is the AWS account id (it names
the offline bucket): `--account-id`, else the stack file's single `aws:allowedAccountIds`, else
the account-id SSM parameter `pulumi up` published (the environment's AWS access, as promotion
uses it). Imports no pulumi.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mlplatform import feast_config, naming
from mlplatform.errors import MlplatformError
from mlplatform.plan import stacks
from mlplatform.spec.feature_store import FeatureStore
from mlplatform.spec.platform import Platform
from mlplatform.stack_config import StackConfig

_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class FeastConfig:
    store: str
    environment: str
    stack: str
    account_id: str
    account_from: str  # where the account id came from, for the user
    text: str  # the feature_store.yaml
    config: dict[str, object]  # the same, as data


def feast_config_for(
    blueprint: str | Path,
    env: str | None = None,
    *,
    stack: str | None = None,
    stack_file: str | Path | None = None,
    store: str | None = None,
    account_id: str | None = None,
    root: Path | None = None,
) -> FeastConfig:
    """Raises BlueprintInvalid for an invalid blueprint, MlplatformError for everything else."""
    from mlplatform.blueprint import load

    path = Path(blueprint)
    root = root or stacks.project_root(path)
    config = stacks.select(
        root, path, env=env, stack=stack, stack_file=Path(stack_file) if stack_file is not None else None
    )
    environment = config.environment
    platform = load(path).resolve(environment)
    spec = _store(platform, store, path)
    account, source = _account(account_id, config, platform, path, environment)
    names = naming.Names(platform.name, environment)
    target = feast_config.Target(
        names=names,
        region=str(config.values.get("aws:region") or platform.region),
        account_id=account,
        tags=platform.resource_tags(environment, spec.name),
        namespace=(platform.kubernetes.namespace or names.serving_namespace()) if spec.target == "kubernetes" else None,
    )
    return FeastConfig(
        store=spec.name,
        environment=environment,
        stack=config.stack,
        account_id=account,
        account_from=source,
        text=feast_config.render(spec, target),
        config=feast_config.config(spec, target),
    )


def _store(platform: Platform, name: str | None, path: Path) -> FeatureStore:
    stores = platform.of_kind(FeatureStore)
    if not stores:
        raise MlplatformError(f"{path}: the platform has no FeatureStore")
    if name is None:
        if len(stores) > 1:
            listed = ", ".join(s.name for s in stores)
            raise MlplatformError(f"{path}: the platform has several FeatureStores ({listed}); pick one with --store")
        return stores[0]
    found = next((s for s in stores if s.name == name), None)
    if found is None:
        listed = ", ".join(s.name for s in stores)
        raise MlplatformError(f"{path}: no FeatureStore named '{name}' (FeatureStores: {listed})")
    return found


def _account(
    given: str | None, config: StackConfig, platform: Platform, path: Path, environment: str
) -> tuple[str, str]:
    where = str(config.path or config.stack)
    if given is not None:
        if not _ACCOUNT_ID.match(given):
            raise MlplatformError(f"--account-id must be the 12 digits of an AWS account id; got '{given}'")
        return given, "--account-id"
    allowed = config.values.get("aws:allowedAccountIds")
    if isinstance(allowed, list) and len(allowed) == 1 and _ACCOUNT_ID.match(str(allowed[0])):
        return str(allowed[0]), f"aws:allowedAccountIds in {where}"
    return _published_account(config, platform, path, environment), "SSM (published by pulumi up)"


def _published_account(config: StackConfig, platform: Platform, path: Path, environment: str) -> str:
    """The account-id parameter the platform core publishes, read with the environment's access."""
    from mlplatform.promotion.aws import Aws
    from mlplatform.promotion.project import Environment

    profile, role = config.get("mlplatform:awsProfile"), config.get("mlplatform:awsRoleArn")
    env = Environment.of_platform(
        name=environment,
        stack=config,
        blueprint_path=str(path),
        platform=platform,
        profile=str(profile) if profile else None,
        role_arn=str(role) if role else None,
    )
    try:
        value = Aws(env).parameter(naming.SSM_ACCOUNT_ID)
    except MlplatformError as exc:
        reason = str(exc).replace("or pass --aws-profile ENV=PROFILE", "or set AWS_PROFILE")
        raise MlplatformError(
            f"{reason}; or pass --account-id, or set aws:allowedAccountIds in {config.path or config.stack}"
        ) from None
    return str(value)
