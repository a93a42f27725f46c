"""Editing `mlplatform:models` in a stack file: round-trip, atomic.

ruamel.yaml's round-trip mode keeps comments, key order and quoting, so the diff of a
promotion is the few lines that changed. The new text is written to a temporary file in the
same folder and moved over the old one with os.replace: readers see the old file or the new
one, never half of either.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from mlplatform.promotion.errors import PromotionError
from mlplatform.stack_config import MODEL_BASELINE, MODEL_FIELDS, PROJECT, PromotedModel

MODELS_KEY = f"{PROJECT}:models"


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def render(text: str, model: str, promoted: PromotedModel, where: str) -> str:
    """`text` with `mlplatform:models.<model>` set to `promoted`; everything else as it was."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    yaml = _yaml()
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise PromotionError(f"{where}: not valid YAML: {exc}") from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise PromotionError(f"{where}: expected a mapping with a 'config' key")
    config = data.get("config")
    if config is None:
        config = data["config"] = CommentedMap()
    if not isinstance(config, dict):
        raise PromotionError(f"{where}: 'config' must be a mapping")
    models = config.get(MODELS_KEY)
    if models is None:
        models = config[MODELS_KEY] = CommentedMap()
    if not isinstance(models, dict):
        raise PromotionError(f"{where}: {MODELS_KEY} must map model names to versions")
    entry = models.get(model)
    if not isinstance(entry, dict):
        entry = models[model] = CommentedMap()
    values = {
        "version": DoubleQuotedScalarString(promoted.version),
        "uri": promoted.uri,
        "sha256": promoted.sha256,
        "image": promoted.image,
    }
    for name in MODEL_FIELDS:
        entry[name] = values[name]
    if promoted.baseline:
        entry[MODEL_BASELINE] = promoted.baseline
    else:
        entry.pop(MODEL_BASELINE, None)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step; the file keeps its permissions."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update(path: Path, model: str, promoted: PromotedModel) -> bytes:
    """Set the model's entry in the stack file at `path`; returns the old bytes (to restore)."""
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        raise PromotionError(f"{path}: stack file not found") from None
    new = render(old.decode("utf-8"), model, promoted, str(path))
    if new.encode("utf-8") != old:
        write_atomic(path, new)
    return old


def restore(path: Path, old: bytes) -> None:
    write_atomic(path, old.decode("utf-8"))
