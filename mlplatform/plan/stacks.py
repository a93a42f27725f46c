"""Which stack file a plan uses, and the config the program gets from it.

`--stack-file FILE` names it; `--stack NAME` picks stacks/Pulumi.<NAME>.yaml; `--env ENV` picks
the stack file for that environment of this blueprint (stacks/Pulumi.<ENV>.yaml, or the one whose
mlplatform:environment is ENV and whose blueprint is BLUEPRINT, as recs-prod for prod).
Imports no pulumi.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlplatform import stack_config
from mlplatform.errors import MlplatformError
from mlplatform.stack_config import PROJECT, StackConfig


def project_root(blueprint: Path) -> Path:
    """The project (folder of Pulumi.yaml) the command runs in, else the blueprint's."""
    try:
        return stack_config.find_project_root()
    except MlplatformError:
        return stack_config.find_project_root(blueprint.resolve().parent)


def blueprint_setting(root: Path, blueprint: Path) -> str:
    """The blueprint as stack config gives it: relative to the project root, else absolute."""
    full = blueprint.resolve()
    try:
        return full.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(full)


def select(
    root: Path,
    blueprint: Path,
    *,
    env: str | None = None,
    stack: str | None = None,
    stack_file: Path | None = None,
) -> StackConfig:
    """The stack config to plan `blueprint` with; raises MlplatformError saying what to pass."""
    if stack_file is not None:
        config = stack_config.read(stack_file)
    elif stack is not None:
        config = stack_config.read(stack_config.stack_file(root, stack), stack)
    elif env is not None:
        config = _for_environment(root, blueprint, env)
    else:
        raise MlplatformError("say which stack to plan: --env ENV, --stack NAME or --stack-file FILE")
    if env is not None and config.environment != env:
        if config.values.get(f"{PROJECT}:environment"):
            raise MlplatformError(
                f"{config.path}: stack '{config.stack}' is environment '{config.environment}', not '{env}'"
            )
        config.values[f"{PROJECT}:environment"] = env
    return config


def _for_environment(root: Path, blueprint: Path, env: str) -> StackConfig:
    wanted = blueprint_setting(root, blueprint)
    candidates: list[StackConfig] = []
    for path in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        config = stack_config.read(path)
        if config.environment == env and _same_blueprint(root, config.blueprint, wanted):
            candidates.append(config)
    named = [c for c in candidates if c.stack == env]  # the stack named for the environment wins
    if len(candidates) == 1 or named:
        return (named or candidates)[0]
    if len(candidates) > 1:
        names = ", ".join(c.stack for c in candidates)
        raise MlplatformError(f"stacks {names} all deploy {wanted} as '{env}': pick one with --stack NAME")
    default = stack_config.stack_file(root, env)
    if default.is_file():  # BLUEPRINT overrides the stack file's own blueprint
        return stack_config.read(default)
    raise MlplatformError(
        f"no stack file for environment '{env}' in {root / 'stacks'}: add stacks/Pulumi.{env}.yaml "
        "or pass --stack NAME or --stack-file FILE"
    )


def _same_blueprint(root: Path, configured: str | None, wanted: str) -> bool:
    if not configured:
        return False
    return blueprint_setting(root, root / configured) == wanted


def program_config(root: Path, config: StackConfig, blueprint: Path, env: str) -> dict[str, str]:
    """Config as `pulumi up` would hand it to the program: Pulumi.yaml defaults, the stack file,
    BLUEPRINT in place of mlplatform:blueprint, and the environment."""
    values: dict[str, Any] = {**stack_config.project_defaults(root), **config.values}
    values[f"{PROJECT}:blueprint"] = blueprint_setting(root, blueprint)
    values[f"{PROJECT}:environment"] = env
    return StackConfig(config.stack, config.path, values).as_pulumi_config()


def project_settings(root: Path) -> tuple[str, Path]:
    """The project name and the program's entry file, from Pulumi.yaml."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((root / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    main = root / str(data.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    return str(data.get("name") or PROJECT), main
