"""Which stack file, blueprint and platform an environment of a model belongs to.

A project may hold several platforms (stacks/Pulumi.dev.yaml for one blueprint,
stacks/Pulumi.recs-dev.yaml for another). A model and an environment name pick exactly one
stack: the one whose environment matches and whose blueprint serves the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlplatform import stack_config
from mlplatform.naming import Names
from mlplatform.promotion.errors import PromotionError

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
    platform: Platform  # resolved for this environment
    profile: str | None = None
    role_arn: str | None = None

    @property
    def stack_path(self) -> Path:
        assert self.stack.path is not None
        return self.stack.path

    @property
    def names(self) -> Names:
        return Names(self.platform.name, self.name)

    @property
    def region(self) -> str:
        return str(self.stack.get("aws:region") or self.platform.region)

    @property
    def order(self) -> list[str]:
        return list(self.platform.environments)

    @property
    def is_last(self) -> bool:
        """The last environment in promotion order is production: prompts and approval apply."""
        return self.order[-1] == self.name

    def endpoints_of(self, model: str) -> list[ModelEndpoint]:
        from mlplatform.spec.model_endpoint import ModelEndpoint

        return [c for c in self.platform.of_kind(ModelEndpoint) if c.model == model]

    def gates_for(self, model: str) -> list[tuple[str, MetricGates]]:
        return [(e.name, e.gates) for e in self.endpoints_of(model)]

    def models(self) -> list[str]:
        from mlplatform.spec.model_endpoint import ModelEndpoint

        return sorted({c.model for c in self.platform.of_kind(ModelEndpoint)})


@dataclass
class Project:
    """The project folder (holding Pulumi.yaml) and its stack files."""

    root: Path
    profiles: dict[str, str] = field(default_factory=dict)  # env -> profile, from flags
    roles: dict[str, str] = field(default_factory=dict)  # env -> role ARN, from flags
    _blueprints: dict[str, Blueprint] = field(default_factory=dict)

    @classmethod
    def find(
        cls, project_dir: Path | None, profiles: dict[str, str] | None = None, roles: dict[str, str] | None = None
    ) -> Project:
        root = stack_config.find_project_root(project_dir)
        return cls(root, profiles or {}, roles or {})

    def stacks(self) -> list[stack_config.StackConfig]:
        folder = self.root / "stacks"
        files = sorted(folder.glob("Pulumi.*.yaml")) if folder.is_dir() else []
        return [stack_config.read(f) for f in files]

    def blueprint(self, path: str) -> Blueprint:
        from mlplatform.blueprint import load

        if path not in self._blueprints:
            self._blueprints[path] = load(self.root / path)
        return self._blueprints[path]

    def _environment(self, stack: stack_config.StackConfig) -> Environment:
        path = stack.blueprint or str(stack_config.project_defaults(self.root).get("mlplatform:blueprint") or "")
        if not path:
            raise PromotionError(f"{stack.path}: mlplatform:blueprint is not set")
        env = stack.environment
        platform = self.blueprint(path).resolve(env)
        return Environment(
            name=env,
            stack=stack,
            blueprint_path=path,
            platform=platform,
            profile=self.profiles.get(env) or _opt(stack.get("mlplatform:awsProfile")),
            role_arn=self.roles.get(env) or _opt(stack.get("mlplatform:awsRoleArn")),
        )

    def environments(self, model: str | None = None, env: str | None = None) -> list[Environment]:
        """Environments (one per stack file) serving `model`, optionally only `env`, in promotion order."""
        found: list[Environment] = []
        for stack in self.stacks():
            if env is not None and stack.environment != env:
                continue
            environment = self._environment(stack)
            if model is None or environment.endpoints_of(model):
                found.append(environment)
        return sorted(found, key=lambda e: (e.platform.name, _index(e.order, e.name), e.name))

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


def _index(order: list[str], env: str) -> int:
    return order.index(env) if env in order else len(order)


def _opt(value: object) -> str | None:
    return str(value) if value else None
