"""Reading Pulumi stack config files (stacks/Pulumi.<stack>.yaml) without the Pulumi CLI.

The plan engine, the promotion commands and the project-consistency tests read stack files
through here; the Pulumi program reads the same keys through `pulumi.Config`. Imports no pulumi.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplatform.errors import MlplatformError

PROJECT = "mlplatform"

# Every key a stack file may set. The `mlplatform:` namespace is strict: Pulumi hands any key to
# the program, so a typo (`mlplatform:modles`) would silently deploy without the setting. Keys of
# other namespaces belong to their providers and are passed through. Add a key here (with a line
# saying what it does) when the program starts reading it.
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
    f"{PROJECT}:assumeDutyRoles": "true: the CLI assumes the platform's role for each command's duty.",
    f"{PROJECT}:access": "Who may assume each duty's role: duty -> [principal ARN, ...].",
    f"{PROJECT}:accounts": "Account of each environment when they differ: env -> account id.",
    f"{PROJECT}:kubeconfig": "Kubeconfig file (or its contents) for kubernetes targets.",
    f"{PROJECT}:kubeContext": "Kubeconfig context for kubernetes targets.",
    f"{PROJECT}:smtpPassword": "SMTP password of Platform.kubernetes.prometheus.smtp (set it with --secret).",
    # pulumi-kubernetes' own provider config; the program's explicit provider honours them.
    "kubernetes:context": "Kubeconfig context (pulumi-kubernetes provider config).",
    "kubernetes:kubeconfig": "Kubeconfig file or contents (pulumi-kubernetes provider config).",
}
STRICT_NAMESPACES = (PROJECT,)

# The top level of a Pulumi stack settings file (Pulumi's "Stack settings file reference").
TOP_LEVEL_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")

MODEL_FIELDS = ("version", "uri", "sha256", "image")
# Optional: the s3:// prefix of the version's data-quality baseline (statistics.json and
# constraints.json), which a Model Monitor schedule checks captured requests against.
MODEL_BASELINE = "baseline"


@dataclass(frozen=True)
class PromotedModel:
    version: str
    uri: str
    sha256: str
    image: str
    baseline: str | None = None


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
        return parse_models(self.values.get(f"{PROJECT}:models"), display(self.path) if self.path else self.stack)

    def unknown_keys(self) -> list[str]:
        """Keys not in KNOWN_KEYS, of any namespace (only strict namespaces are errors)."""
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
        known = (*MODEL_FIELDS, MODEL_BASELINE)
        extra = sorted(str(k) for k in entry if k not in known) if isinstance(entry, dict) else []
        if extra:
            hints = [f"'{k}'{_did_you_mean(k, MODEL_FIELDS)}" for k in extra]
            raise MlplatformError(
                f"{where}: {PROJECT}:models.{name} has unknown field {', '.join(hints)} "
                f"(each model has {', '.join(MODEL_FIELDS)})"
            )
        missing = [f for f in MODEL_FIELDS if not isinstance(entry, dict) or not entry.get(f)]
        if missing:
            raise MlplatformError(
                f"{where}: {PROJECT}:models.{name} is missing {', '.join(missing)} "
                f"(each model needs {', '.join(MODEL_FIELDS)})"
            )
        baseline = entry.get(MODEL_BASELINE)
        if baseline is not None and not (isinstance(baseline, str) and baseline.startswith("s3://")):
            raise MlplatformError(
                f"{where}: {PROJECT}:models.{name}.{MODEL_BASELINE} must be the s3:// prefix of the "
                f"version's baseline (statistics.json, constraints.json); got {baseline!r}"
            )
        version, uri, sha256, image = (str(entry[f]) for f in MODEL_FIELDS)
        models[str(name)] = PromotedModel(
            version, uri, sha256, image, baseline=baseline.rstrip("/") + "/" if baseline else None
        )
    return models


def display(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding Pulumi.yaml, searching upwards from `start` (default: cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise MlplatformError(no_project(str(here)))


def no_project(searched: str) -> str:
    """What to say when no project is found (searched: the folders looked in, said plainly)."""
    return (
        f"no mlplatform project found: no Pulumi.yaml in {searched} or any folder above; run the command "
        "inside the project (the folder holding Pulumi.yaml and stacks/), or pass --project-dir DIR"
    )


def stack_file(root: Path, stack: str) -> Path:
    return root / "stacks" / f"Pulumi.{stack}.yaml"


def read(path: Path, stack: str | None = None) -> StackConfig:
    """Read a stack file; the stack name comes from the file name (`Pulumi.<stack>.yaml`).

    Strict where Pulumi is lenient: an empty file, a top level that is not a mapping, an unknown
    top-level or `mlplatform:` key, or a malformed `mlplatform:models` raises MlplatformError
    naming the file and every such problem."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    name = stack or _stack_name(path)
    shown = display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MlplatformError(f"{shown}: stack file not found") from None
    except (OSError, ValueError) as exc:  # a folder, unreadable, not UTF-8
        raise MlplatformError(f"{shown}: cannot read the stack file: {exc}") from None
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise MlplatformError(f"{shown}: not valid YAML: {exc}") from None
    if data is None:
        raise MlplatformError(
            f"{shown}: the stack file is empty; it needs a 'config:' mapping that sets at least {PROJECT}:blueprint"
        )
    if not isinstance(data, dict):
        raise MlplatformError(
            f"{shown}: the top level must be a mapping with a 'config:' key (Pulumi stack settings); "
            f"got {_kind(data)}"
        )
    has = ", ".join(TOP_LEVEL_KEYS)
    problems = [
        f"unknown top-level key '{k}'{_did_you_mean(str(k), TOP_LEVEL_KEYS)} (a stack file has {has})"
        for k in data
        if k not in TOP_LEVEL_KEYS
    ]
    config = data.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        problems.append(f"'config' must be a mapping of keys to values; got {_kind(config)}")
        config = {}
    values = {(str(k) if ":" in str(k) else f"{PROJECT}:{k}"): v for k, v in config.items()}
    problems += key_problems(values)
    for key in (f"{PROJECT}:blueprint", f"{PROJECT}:environment"):
        if key in values and not isinstance(values[key], str):
            problems.append(f"{key} must be a string; got {_kind(values[key])} {values[key]!r}")
    if problems:
        raise StackFileInvalid(shown, problems, _known_note(values))
    found = StackConfig(name, path, values)
    _ = found.models  # a malformed mlplatform:models is an error of the file, found here
    return found


class StackFileInvalid(MlplatformError):
    """A stack file with one or more problems; the message lists them all."""

    def __init__(self, where: str, problems: list[str], note: str = "") -> None:
        self.where = where
        self.problems = problems
        self.note = note
        if len(problems) == 1:
            text = f"{where}: {problems[0]}" + (f" ({note})" if note else "")
        else:
            text = f"{where}: {len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems)
            text += f"\n  ({note})" if note else ""
        super().__init__(text)


def key_problems(keys: Iterable[str]) -> list[str]:
    """One problem per unknown key of a strict namespace, with the closest known key."""
    problems = []
    for key in sorted(keys):
        namespace, _, name = key.partition(":")
        if namespace not in STRICT_NAMESPACES or key in KNOWN_KEYS:
            continue
        known = [k.partition(":")[2] for k in KNOWN_KEYS if k.startswith(f"{namespace}:")]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or difflib.get_close_matches(
            name.lower(), [k.lower() for k in known], n=1, cutoff=0.6
        )
        hint = ""
        if close:
            match = next(k for k in known if k.lower() == close[0].lower())
            hint = f"; did you mean '{namespace}:{match}'?"
        problems.append(f"unknown key '{key}'{hint}")
    return problems


def _known_note(keys: Iterable[str]) -> str:
    """The known keys of the strict namespaces the unknown `keys` are in."""
    namespaces = sorted({k.partition(":")[0] for k in keys if k not in KNOWN_KEYS} & set(STRICT_NAMESPACES))
    notes = []
    for namespace in namespaces:
        known = sorted((k.partition(":")[2] for k in KNOWN_KEYS if k.startswith(f"{namespace}:")), key=str.lower)
        notes.append(f"{namespace} keys: {', '.join(known)}")
    return "; ".join(notes)


def check_keys(keys: Iterable[str], where: str) -> None:
    """Raise StackFileInvalid for unknown keys of a strict namespace (used by the program, which
    sees the config Pulumi merged, not the file)."""
    keys = list(keys)
    problems = key_problems(keys)
    if problems:
        raise StackFileInvalid(where, problems, _known_note(keys))


def _did_you_mean(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _kind(value: object) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean", dict: "a mapping"}
    return names.get(type(value), f"a {type(value).__name__}")


def _project_config(root: Path) -> dict[str, Any]:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((root / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    config = data.get("config") if isinstance(data, dict) else None
    return {(k if ":" in k else f"{PROJECT}:{k}"): v for k, v in (config or {}).items()}


def project_defaults(root: Path) -> dict[str, Any]:
    """Defaults and values declared in Pulumi.yaml's `config:`; the engine applies them, SDK
    mocks do not."""
    out: dict[str, Any] = {}
    for full, decl in _project_config(root).items():
        if isinstance(decl, dict) and ("default" in decl or "value" in decl):
            out[full] = decl.get("default", decl.get("value"))
        elif not isinstance(decl, dict):
            out[full] = decl
    return out


def project_required(root: Path) -> list[str]:
    """Project-namespace keys Pulumi.yaml declares with neither default nor value: Pulumi refuses
    a stack that does not set them (pkg/workspace/config.go, missingStackConfigurationKeysError)."""
    return sorted(
        full
        for full, decl in _project_config(root).items()
        if full.startswith(f"{PROJECT}:") and isinstance(decl, dict) and "default" not in decl and "value" not in decl
    )


def _stack_name(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi.") :].rsplit(".", 1)[0]
    return path.stem
