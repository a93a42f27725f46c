"""Which stack file a plan uses, and the config the program gets from it.

`--stack-file FILE` names it; `--stack NAME` picks stacks/Pulumi.<NAME>.yaml; `--env ENV` picks
the stack file for that environment of this blueprint (stacks/Pulumi.<ENV>.yaml, or the one whose
mlplatform:environment is ENV and whose blueprint is BLUEPRINT, as recs-prod for prod).
Imports no pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlplatform import stack_config
from mlplatform.errors import MlplatformError
from mlplatform.stack_config import PROJECT, StackConfig

if TYPE_CHECKING:
    from mlplatform.spec.platform import Platform


def project_root(blueprint: Path) -> Path:
    """The project (folder of Pulumi.yaml) the command runs in, else the blueprint's."""
    try:
        return stack_config.find_project_root()
    except MlplatformError:
        pass
    here, beside = Path.cwd().resolve(), blueprint.resolve().parent
    try:
        return stack_config.find_project_root(beside)
    except MlplatformError:
        searched = f"{here} (the current folder) or {beside} (the blueprint's)" if beside != here else str(here)
        raise MlplatformError(stack_config.no_project(searched)) from None


def blueprint_setting(root: Path, blueprint: Path) -> str:
    """The blueprint as stack config gives it: relative to the project root, else absolute."""
    full = blueprint.resolve()
    try:
        return full.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(full)


# The flags that pick a stack, named in messages: `diff` has one pair per side.
StackFlags = tuple[str, str]
PLAN_FLAGS: StackFlags = ("--stack", "--stack-file")


def select(
    root: Path,
    blueprint: Path,
    *,
    env: str | None = None,
    stack: str | None = None,
    stack_file: Path | None = None,
    flags: StackFlags = PLAN_FLAGS,
) -> StackConfig:
    """The stack config to plan `blueprint` with; raises MlplatformError saying what to pass.

    Only the stack files needed are read: a broken file of another stack does not block this one."""
    stack_flag, file_flag = flags
    if stack_file is not None:
        config = stack_config.read(stack_file)
    elif stack is not None:
        config = stack_config.read(stack_config.stack_file(root, stack), stack)
    elif env is not None:
        config = _for_environment(root, blueprint, env, flags)
    else:
        raise MlplatformError(f"say which stack to plan: --env ENV, {stack_flag} NAME or {file_flag} FILE")
    if env is not None and config.environment != env:
        if config.values.get(f"{PROJECT}:environment"):
            where = stack_config.display(config.path) if config.path else config.stack
            raise MlplatformError(f"{where}: stack '{config.stack}' is environment '{config.environment}', not '{env}'")
        config.values[f"{PROJECT}:environment"] = env
    return config


def _for_environment(root: Path, blueprint: Path, env: str, flags: StackFlags) -> StackConfig:
    """The stack file deploying `blueprint` as `env`: stacks/Pulumi.<env>.yaml when it does, else
    the one other file that does. Never a stack file of another blueprint."""
    stack_flag, file_flag = flags
    wanted = blueprint_setting(root, blueprint)
    default = _default_blueprint(root)
    named_path = stack_config.stack_file(root, env)
    named: StackConfig | None = None
    if named_path.is_file():
        named = stack_config.read(named_path)  # the file this environment is named for: its errors count
        if named.environment == env and _same_blueprint(root, named.blueprint or default, wanted):
            return named
    candidates: list[StackConfig] = []
    unreadable: list[str] = []
    for path in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        if path == named_path:
            continue
        try:
            config = stack_config.read(path)
        except MlplatformError as exc:  # not this stack's problem unless no other file fits
            shown = stack_config.display(path)
            unreadable.append(f"{path.relative_to(root)} ({str(exc).splitlines()[0].removeprefix(f'{shown}: ')})")
            continue
        if config.environment == env and _same_blueprint(root, config.blueprint or default, wanted):
            candidates.append(config)
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        names = ", ".join(c.stack for c in candidates)
        raise MlplatformError(f"stacks {names} all deploy {wanted} as '{env}': pick one with {stack_flag} NAME")
    why = ""
    if named is not None:
        other = named.blueprint or default or "no blueprint"
        if named.environment != env:
            why = f"; {named_path.relative_to(root)} is environment '{named.environment}'"
        else:
            why = f"; {named_path.relative_to(root)} deploys {other}"
    if unreadable:
        why += f"; could not read {', '.join(unreadable)}"
    add = (
        f"stacks/Pulumi.{env}.yaml with {PROJECT}:blueprint: {wanted}"
        if named is None
        else f"a stack file stacks/Pulumi.NAME.yaml with {PROJECT}:blueprint: {wanted} and {PROJECT}:environment: {env}"
    )
    folder = stack_config.display(root / "stacks")
    raise MlplatformError(
        f"no stack file in {folder}/ deploys {wanted} as environment '{env}'{why}. Add {add}, "
        f"or pass {stack_flag} NAME or {file_flag} FILE to plan it with another stack's config"
    )


def _default_blueprint(root: Path) -> str | None:
    value = stack_config.project_defaults(root).get(f"{PROJECT}:blueprint")
    return str(value) if value else None


def _same_blueprint(root: Path, configured: str | None, wanted: str) -> bool:
    if not configured:
        return False
    return blueprint_setting(root, root / configured) == wanted


def substituted(root: Path, config: StackConfig, blueprint: Path) -> str | None:
    """The blueprint the stack file deploys, when BLUEPRINT is planned in its place (else None)."""
    configured = config.blueprint or _default_blueprint(root)
    if configured and _same_blueprint(root, configured, blueprint_setting(root, blueprint)):
        return None
    return configured or "no blueprint"


def missing_required(root: Path, config: StackConfig) -> list[str]:
    """Keys Pulumi.yaml declares without a default that the stack does not set: `pulumi up`
    refuses such a stack ("Stack 'x' is missing configuration value 'y'")."""
    return [k for k in stack_config.project_required(root) if k not in config.values]


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


@dataclass
class StackReport:
    """What `validate` found in one stack file of the project."""

    file: str
    stack: str | None = None
    environment: str | None = None
    blueprint: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "stack": self.stack,
            "environment": self.environment,
            "blueprint": self.blueprint,
            "valid": not self.errors,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def check_stack_files(
    root: Path, validated: dict[str, tuple[list[str], dict[str, Platform]]], envs: list[str] | None = None
) -> list[StackReport]:
    """The project's stack files that deploy one of the `validated` blueprints (setting -> the
    blueprint's environments and its platform per valid environment), and those that cannot be
    read or name no blueprint (which blueprint they deploy cannot be told). Files of other
    blueprints are left alone."""
    from mlplatform.spec.model_endpoint import ModelEndpoint

    reports: list[StackReport] = []
    folder = root / "stacks"
    for path in sorted(folder.glob("Pulumi.*.yaml")) if folder.is_dir() else []:
        report = StackReport(stack_config.display(path))
        try:
            config = stack_config.read(path)
        except stack_config.StackFileInvalid as exc:
            report.errors = list(exc.problems)
            if exc.note:
                report.errors[-1] += f" ({exc.note})"
            reports.append(report)
            continue
        except MlplatformError as exc:
            report.errors = [str(exc).removeprefix(f"{report.file}: ")]
            reports.append(report)
            continue
        report.stack, report.environment = config.stack, config.environment
        if envs is not None and config.environment not in envs:
            continue
        configured = config.blueprint or _default_blueprint(root)
        if not configured:
            report.errors.append(
                f"sets no {PROJECT}:blueprint; Pulumi.yaml declares it without a default, so `pulumi up` refuses "
                "this stack"
            )
            reports.append(report)
            continue
        report.blueprint = blueprint_setting(root, root / configured)
        if report.blueprint not in validated:
            continue  # another blueprint's stack
        environments, specs = validated[report.blueprint]
        if config.environment not in environments:
            report.errors.append(
                f"environment '{config.environment}' is not one of {report.blueprint}'s environments "
                f"({', '.join(environments)}); set {PROJECT}:environment"
            )
        spec = specs.get(config.environment)
        if spec is not None:
            served = {c.model for c in spec.of_kind(ModelEndpoint)}
            for model in sorted(set(config.models) - served):
                report.warnings.append(
                    f"{PROJECT}:models promotes '{model}', which no ModelEndpoint of {report.blueprint} serves"
                )
            region = config.values.get("aws:region")
            if region and region != spec.region:
                report.warnings.append(
                    f"aws:region is {region} but the blueprint's region is {spec.region}; resources deploy to {region}"
                )
        reports.append(report)
    return reports
