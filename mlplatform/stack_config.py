"""Reading Pulumi stack config files (stacks/Pulumi.<stack>.yaml) without the Pulumi CLI.

The plan engine, the promotion commands and the project-consistency tests read stack files
through here; the Pulumi program reads the same keys through `pulumi.Config`. Imports no pulumi.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplatform.errors import MlplatformError

PROJECT = "mlplatform"

# Every key a stack file may set. Anything else is a typo that Pulumi would silently ignore.
KNOWN_KEYS: dict[str, str] = {
    "aws:region": "AWS region of the environment.",
    "aws:profile": "AWS profile Pulumi deploys with.",
    "aws:assumeRoles": "Roles Pulumi assumes to deploy.",
    "aws:allowedAccountIds": "Accounts this stack may deploy to.",
    f"{PROJECT}:blueprint": "Blueprint file, relative to the project root.",
    f"{PROJECT}:environment": "Blueprint environment of this stack. Omitted: the stack name.",
    f"{PROJECT}:models": "Promoted model versions: model -> {version, uri, sha256, image}.",
    f"{PROJECT}:awsProfile": "AWS profile the mlplatform CLI uses for this environment.",
    f"{PROJECT}:awsRoleArn": "Role the mlplatform CLI assumes for this environment.",
    f"{PROJECT}:kubeconfig": "Kubeconfig file (or its contents) for kubernetes targets.",
    f"{PROJECT}:kubeContext": "Kubeconfig context for kubernetes targets.",
}

MODEL_FIELDS = ("version", "uri", "sha256", "image")


@dataclass(frozen=True)
class PromotedModel:
    version: str
    uri: str
    sha256: str
    image: str


@dataclass
class StackConfig:
    """The config of one stack, with keys in full (`namespace:key`), values as YAML gave them."""

    stack: str
    path: Path | None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def environment(self) -> str:
        return str(self.values.get(f"{PROJECT}:environment") or self.stack)

    @property
    def blueprint(self) -> str | None:
        value = self.values.get(f"{PROJECT}:blueprint")
        return str(value) if value else None

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key if ":" in key else f"{PROJECT}:{key}", default)

    @property
    def models(self) -> dict[str, PromotedModel]:
        return parse_models(self.values.get(f"{PROJECT}:models"), str(self.path or self.stack))

    def unknown_keys(self) -> list[str]:
        return sorted(k for k in self.values if k not in KNOWN_KEYS)

    def as_pulumi_config(self) -> dict[str, str]:
        """Config as the Pulumi engine hands it to a program: strings, objects as JSON text."""
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.values.items()}


def parse_models(value: Any, where: str) -> dict[str, PromotedModel]:
    if value is None:
        return {}
    if isinstance(value, str):  # as Pulumi passes objects to a program
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise MlplatformError(f"{where}: {PROJECT}:models is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MlplatformError(f"{where}: {PROJECT}:models must map model names to versions")
    models: dict[str, PromotedModel] = {}
    for name, entry in value.items():
        missing = [f for f in MODEL_FIELDS if not isinstance(entry, dict) or not entry.get(f)]
        if missing:
            raise MlplatformError(
                f"{where}: {PROJECT}:models.{name} is missing {', '.join(missing)} "
                f"(each model needs {', '.join(MODEL_FIELDS)})"
            )
        models[str(name)] = PromotedModel(*(str(entry[f]) for f in MODEL_FIELDS))
    return models


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding Pulumi.yaml, searching upwards from `start` (default: cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise MlplatformError(f"no Pulumi.yaml in {here} or any folder above it; run from the project")


def stack_file(root: Path, stack: str) -> Path:
    return root / "stacks" / f"Pulumi.{stack}.yaml"


def read(path: Path, stack: str | None = None) -> StackConfig:
    """Read a stack file; the stack name comes from the file name (`Pulumi.<stack>.yaml`)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    name = stack or _stack_name(path)
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise MlplatformError(f"{path}: stack file not found") from None
    except YAMLError as exc:
        raise MlplatformError(f"{path}: not valid YAML: {exc}") from None
    config = data.get("config") if isinstance(data, dict) else None
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise MlplatformError(f"{path}: 'config' must be a mapping of keys to values")
    values = {(k if ":" in str(k) else f"{PROJECT}:{k}"): v for k, v in config.items()}
    return StackConfig(name, path, values)


def project_defaults(root: Path) -> dict[str, Any]:
    """Defaults declared in Pulumi.yaml's `config:`; the engine applies them, SDK mocks do not."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((root / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    out: dict[str, Any] = {}
    for key, decl in (data.get("config") or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(decl, dict) and "default" in decl:
            out[full] = decl["default"]
        elif not isinstance(decl, dict):
            out[full] = decl
    return out


def _stack_name(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi.") :].rsplit(".", 1)[0]
    return path.stem
