"""Which stack file, blueprint and platform an environment of a model belongs to.

A project may hold several platforms (stacks/Pulumi.dev.yaml for one blueprint,
stacks/Pulumi.recs-dev.yaml for another). A model and an environment name pick exactly one
stack: the one whose environment matches and whose blueprint serves the model.

Trust boundaries: stack files are only read (YAML, never executed), only from `stacks/`; a
blueprint is code, so its path must stay inside the project, and it is read for names without
running it (`facts`). It runs only when a command needs what only running it gives (gates,
images, alarms), and only for the environments that command acts on.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from mlplatform import stack_config
from mlplatform.errors import MlplatformError
from mlplatform.naming import Names
from mlplatform.promotion import facts as blueprint_facts
from mlplatform.promotion.errors import PromotionError
from mlplatform.spec.environments import approval_environment, is_production

DUTY_ROLES_ENV = "MLPLATFORM_DUTY_ROLES"

if TYPE_CHECKING:
    from mlplatform.blueprint import Blueprint
    from mlplatform.spec.model_endpoint import MetricGates, ModelEndpoint
    from mlplatform.spec.platform import Platform


@dataclass
class Environment:
    """One environment of one platform, as the promotion commands see it."""

    name: str
    stack: stack_config.StackConfig
    blueprint_path: str
    facts: blueprint_facts.BlueprintFacts
    project: Project = field(repr=False)
    profile: str | None = None
    role_arn: str | None = None
    session_name: str | None = None  # of the role session (a pipeline's); omitted: the person's name

    @classmethod
    def of_platform(
        cls,
        name: str,
        stack: stack_config.StackConfig,
        blueprint_path: str,
        platform: Platform,
        profile: str | None = None,
        role_arn: str | None = None,
    ) -> Environment:
        """An environment for a platform already resolved by the caller (no project around it)."""
        from mlplatform.spec.model_endpoint import ModelEndpoint

        models: dict[str, list[str]] = {}
        for endpoint in platform.of_kind(ModelEndpoint):
            models.setdefault(endpoint.model, []).append(endpoint.name)
        found = blueprint_facts.BlueprintFacts(
            blueprint_path,
            platform.name,
            platform.region,
            tuple(platform.environments),
            {m: tuple(e) for m, e in models.items()},
        )
        env = cls(name, stack, blueprint_path, found, Project(Path.cwd()), profile, role_arn)
        env.__dict__["platform"] = platform  # the cached_property, already known
        return env

    @property
    def duty(self) -> str | None:
        """The duty whose platform role the CLI assumes here (when asked to), or None."""
        wanted = self.project.assume_duty_roles or str(self.stack.get("mlplatform:assumeDutyRoles")).lower() == "true"
        return self.project.duty if wanted else None

    @property
    def stack_path(self) -> Path:
        assert self.stack.path is not None
        return self.stack.path

    @property
    def names(self) -> Names:
        return Names(self.facts.name, self.name)

    @property
    def platform_name(self) -> str:
        return self.facts.name

    @property
    def region(self) -> str:
        return str(self.stack.get("aws:region") or self.facts.region)

    @property
    def order(self) -> list[str]:
        return list(self.facts.environments)

    @property
    def is_production(self) -> bool:
        """Production asks for confirmation, needs an approval, and cannot be skipped to."""
        return is_production(self.name)

    @property
    def approval_env(self) -> str | None:
        """Where a version must be approved before it enters this environment."""
        return approval_environment(self.order, self.name)

    def serves(self, model: str) -> bool:
        return model in self.facts.models

    def models(self) -> list[str]:
        return sorted(self.facts.models)

    @cached_property
    def platform(self) -> Platform:
        """The blueprint resolved for this environment: this runs the blueprint's code."""
        platform = self.project.blueprint(self.blueprint_path).resolve(self.name)
        if platform.name != self.facts.name or list(platform.environments) != self.order:
            raise PromotionError(
                f"{self.blueprint_path}: running it gives platform {platform.name!r} with environments "
                f"{list(platform.environments)}, but its literals say {self.facts.name!r} with {self.order}"
            )
        return platform

    def endpoints_of(self, model: str) -> list[ModelEndpoint]:
        from mlplatform.spec.model_endpoint import ModelEndpoint

        return [c for c in self.platform.of_kind(ModelEndpoint) if c.model == model]

    def gates_for(self, model: str) -> list[tuple[str, MetricGates]]:
        return [(e.name, e.gates) for e in self.endpoints_of(model)]


@dataclass
class Project:
    """The project folder (holding Pulumi.yaml) and its stack files."""

    root: Path
    profiles: dict[str, str] = field(default_factory=dict)  # env -> profile, from flags
    roles: dict[str, str] = field(default_factory=dict)  # env -> role ARN, from flags
    duty: str | None = None  # what the command does: promoter, approver or reader
    assume_duty_roles: bool = False  # MLPLATFORM_DUTY_ROLES=1: assume <platform>-<env>-<duty>
    skipped: list[str] = field(default_factory=list)  # stack files left out, and why
    _blueprints: dict[str, Blueprint] = field(default_factory=dict)
    _stacks: list[stack_config.StackConfig] | None = None

    @classmethod
    def find(
        cls,
        project_dir: Path | None,
        profiles: dict[str, str] | None = None,
        roles: dict[str, str] | None = None,
        duty: str | None = None,
    ) -> Project:
        root = stack_config.find_project_root(project_dir)
        wanted = os.environ.get(DUTY_ROLES_ENV, "").lower() in ("1", "true", "yes")
        return cls(root, profiles or {}, roles or {}, duty, wanted)

    def stacks(self, env: str | None = None) -> list[stack_config.StackConfig]:
        """Stack files in stacks/ (for `env`: those whose environment is `env`). A file that
        does not parse is reported once and skipped, unless it is one the command needs."""
        if self._stacks is None:
            folder = self.root / "stacks"
            found: list[stack_config.StackConfig] = []
            for path in sorted(folder.glob("Pulumi.*.yaml")) if folder.is_dir() else []:
                try:
                    found.append(stack_config.read(path))
                except MlplatformError as exc:
                    if env is not None and stack_config._stack_name(path) == env:
                        raise
                    self._skip(f"{path.relative_to(self.root)}: {exc}")
            self._stacks = found
        return [s for s in self._stacks if env is None or s.environment == env]

    def _skip(self, problem: str) -> None:
        if problem not in self.skipped:
            self.skipped.append(problem)
            sys.stderr.write(_skip_message(problem) + "\n")

    def blueprint_file(self, stack: stack_config.StackConfig) -> tuple[str, Path]:
        """The stack's blueprint, which must be a file inside the project: it is code."""
        path = stack.blueprint or str(stack_config.project_defaults(self.root).get("mlplatform:blueprint") or "")
        if not path:
            raise PromotionError(f"{stack.path}: mlplatform:blueprint is not set")
        full = (self.root / path).resolve()
        if not full.is_relative_to(self.root.resolve()):
            raise PromotionError(
                f"{stack.path}: mlplatform:blueprint {path} is outside the project {self.root}; a blueprint is "
                "code that runs with your credentials, so only files inside the project are used"
            )
        return path, full

    def blueprint(self, path: str) -> Blueprint:
        from mlplatform.blueprint import load

        if path not in self._blueprints:
            self._blueprints[path] = load(self.root / path)
        return self._blueprints[path]

    def _environment(self, stack: stack_config.StackConfig) -> Environment:
        path, full = self.blueprint_file(stack)
        env = stack.environment
        found = blueprint_facts.read(full, path)
        if env not in found.environments:
            raise PromotionError(
                f"{stack.path}: environment '{env}' is not one of {path}'s environments "
                f"({', '.join(found.environments)})"
            )
        return Environment(
            name=env,
            stack=stack,
            blueprint_path=path,
            facts=found,
            project=self,
            profile=self.profiles.get(env) or _opt(stack.get("mlplatform:awsProfile")),
            role_arn=self.roles.get(env) or _opt(stack.get("mlplatform:awsRoleArn")),
        )

    def environments(self, model: str | None = None, env: str | None = None) -> list[Environment]:
        """Environments (one per stack file) serving `model`, optionally only `env`, in promotion order."""
        found: list[Environment] = []
        for stack in self.stacks(env):
            try:
                environment = self._environment(stack)
            except PromotionError as exc:
                if env is not None:  # the command needs this one
                    raise
                self._skip(str(exc))
                continue
            if model is None or environment.serves(model):
                found.append(environment)
        return sorted(found, key=lambda e: (e.platform_name, _index(e.order, e.name), e.name))

    def environment(self, model: str, env: str) -> Environment:
        found = self.environments(model, env)
        if not found:
            serving = sorted({e.name for e in self.environments(model)})
            if serving:
                raise PromotionError(
                    f"no stack file in {self.root / 'stacks'} deploys model '{model}' to environment '{env}'; "
                    f"environments serving it: {', '.join(serving)}"
                )
            raise PromotionError(
                f"no blueprint of the stacks in {self.root / 'stacks'} serves model '{model}' "
                "(no ModelEndpoint has model=" + repr(model) + ")"
            )
        if len(found) > 1:
            files = ", ".join(str(e.stack_path.relative_to(self.root)) for e in found)
            raise PromotionError(f"model '{model}' in environment '{env}' is deployed by several stacks: {files}")
        return found[0]


def _skip_message(problem: str) -> str:
    return f"warning: skipped {problem}"


def _index(order: list[str], env: str) -> int:
    return order.index(env) if env in order else len(order)


def _opt(value: object) -> str | None:
    return str(value) if value else None
