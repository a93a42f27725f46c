"""The stack-file writer: round-trip edits keep comments, order and quoting; writes are atomic."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplatform.promotion import stackfile
from mlplatform.promotion.errors import PromotionError
from mlplatform.stack_config import PromotedModel, read

EXAMPLE = """\
# Stack config for staging.
config:
  aws:region: us-east-1   # the region
  mlplatform:blueprint: blueprints/fraud_detection.py
  # Promoted model versions: written by `mlplatform promote`, reviewed like code.
  mlplatform:models:
    other-model:
      version: "3"
      uri: s3://b/models/other-model/3/model.tar.gz
      sha256: 'aa'
      image: img:3
    fraud-xgb:
      version: "6"   # keep me
      uri: s3://b/models/fraud-xgb/6/model.tar.gz
      sha256: bb
      image: img:6
  aws:profile: staging
"""

PROMOTED = PromotedModel("7", "s3://b/models/fraud-xgb/7/model.tar.gz", "cc", "img:7")


def test_update_changes_only_the_model_entry_exact_bytes() -> None:
    assert (
        stackfile.render(EXAMPLE, "fraud-xgb", PROMOTED, "x.yaml")
        == """\
# Stack config for staging.
config:
  aws:region: us-east-1   # the region
  mlplatform:blueprint: blueprints/fraud_detection.py
  # Promoted model versions: written by `mlplatform promote`, reviewed like code.
  mlplatform:models:
    other-model:
      version: "3"
      uri: s3://b/models/other-model/3/model.tar.gz
      sha256: 'aa'
      image: img:3
    fraud-xgb:
      version: "7"   # keep me
      uri: s3://b/models/fraud-xgb/7/model.tar.gz
      sha256: cc
      image: img:7
  aws:profile: staging
"""
    )


def test_new_model_is_appended_and_new_models_key_created() -> None:
    text = stackfile.render(EXAMPLE, "new-model", PROMOTED, "x.yaml")
    added = (
        '    new-model:\n      version: "7"\n      uri: s3://b/models/fraud-xgb/7/model.tar.gz\n'
        "      sha256: cc\n      image: img:7\n"
    )
    assert text == EXAMPLE.replace("  aws:profile: staging\n", added + "  aws:profile: staging\n")
    bare = "# top\nconfig:\n  aws:region: us-east-1  # r\n"
    assert stackfile.render(bare, "m", PROMOTED, "x.yaml") == (
        "# top\nconfig:\n  aws:region: us-east-1  # r\n  mlplatform:models:\n    m:\n"
        '      version: "7"\n      uri: s3://b/models/fraud-xgb/7/model.tar.gz\n      sha256: cc\n      image: img:7\n'
    )


def test_rendering_the_same_values_is_byte_identical(root: Path) -> None:
    # The stack files, and the samples of them with promoted models (stacks/samples/).
    for path in sorted((root / "stacks").glob("Pulumi.*.yaml")) + sorted((root / "stacks" / "samples").glob("*.yaml")):
        text = path.read_text()
        for model, promoted in read(path).models.items():
            assert stackfile.render(text, model, promoted, str(path)) == text


def test_update_is_atomic_and_restorable(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(EXAMPLE)
    path.chmod(0o640)
    old = stackfile.update(path, "fraud-xgb", PROMOTED)
    assert old == EXAMPLE.encode()
    assert read(path).models["fraud-xgb"] == PROMOTED
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.staging.yaml"]  # no temp file left
    stackfile.restore(path, old)
    assert path.read_bytes() == EXAMPLE.encode()


def test_write_failure_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(EXAMPLE)

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        stackfile.update(path, "fraud-xgb", PROMOTED)
    assert path.read_text() == EXAMPLE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.staging.yaml"]


def test_invalid_stack_files_are_reported() -> None:
    with pytest.raises(PromotionError, match=r"x\.yaml: 'config' must be a mapping"):
        stackfile.render("config: [1, 2]\n", "m", PROMOTED, "x.yaml")
    with pytest.raises(PromotionError, match=r"x\.yaml: mlplatform:models must map model names to versions"):
        stackfile.render("config:\n  mlplatform:models: 3\n", "m", PROMOTED, "x.yaml")
