"""Loading blueprint files: whatever the file does, a located message, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplatform.blueprint import load
from mlplatform.spec.problems import BlueprintInvalid


def _problems(tmp_path: Path, source: str | bytes) -> list[str]:
    path = tmp_path / "bp.py"
    if isinstance(source, bytes):
        path.write_bytes(source)
    else:
        path.write_text(source, encoding="utf-8")
    with pytest.raises(BlueprintInvalid) as caught:
        load(path)
    return [str(p).replace(str(path), "bp.py") for p in caught.value.problems]


def test_loads_declarations_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "bp.py"
    path.write_text(
        "from mlplatform import FeatureStore, Platform, per_env\n"
        "platform = Platform(\n"
        "    name='fraud', team='risk-ml',\n"
        "    components=[\n"
        "        FeatureStore(name='features', offline_retention_days=per_env(dev=30, default=365)),\n"
        "    ],\n"
        ")\n"
    )
    blueprint = load(path)
    assert blueprint.name == "fraud"
    assert blueprint.environments == ["dev", "staging", "prod"]
    assert blueprint.lines[()] == 2
    assert blueprint.lines[("components", 0)] == 5
    assert blueprint.resolve("dev").components[0].offline_retention_days == 30  # type: ignore[union-attr]


def test_blueprint_calling_exit(tmp_path: Path) -> None:
    assert _problems(tmp_path, "import sys\nsys.exit(3)\n") == [
        "bp.py:2: Platform: the blueprint called exit(3); a blueprint only declares its Platform"
    ]


def test_null_bytes(tmp_path: Path) -> None:
    assert _problems(tmp_path, b"x = 1\x00\n") == [
        "bp.py: Platform: Python syntax error: source code string cannot contain null bytes"
    ]


def test_not_utf8(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, b"name = '\xff\xfe'\n")
    assert problem.startswith("bp.py: Platform: cannot read the file: 'utf-8' codec can't decode byte 0xff")


def test_platform_that_contains_itself(tmp_path: Path) -> None:
    source = "from mlplatform import Platform\nloop = []\nloop.append(loop)\nplatform = Platform(name='x', tags=loop)\n"
    assert _problems(tmp_path, source) == [
        "bp.py:4: Platform: the Platform contains itself (a list or dict that refers to itself, or nesting too deep)"
    ]


def test_exception_line_is_the_blueprints_innermost(tmp_path: Path) -> None:
    source = "def size():\n    return {}['prod']\n\nvalue = size()\n"
    assert _problems(tmp_path, source) == ["bp.py:2: Platform: the blueprint raised KeyError: 'prod'"]


def test_import_error_names_what_mlplatform_provides(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "from mlplatform import Endpont\n")
    assert problem.startswith(
        "bp.py:1: Platform: import failed: ImportError: cannot import name 'Endpont' from 'mlplatform'; "
        "did you mean 'ModelEndpoint'? mlplatform provides AllAtOnce, ApiAccess, Canary, "
    )
    assert "/" not in problem.split("mlplatform provides")[1]  # no path of this machine


def test_a_directory_is_not_a_blueprint(tmp_path: Path) -> None:
    with pytest.raises(BlueprintInvalid) as caught:
        load(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}: Platform: is a folder; give a blueprint file (`validate` also takes folders)"
    ]


def test_blueprint_modules_do_not_stay_imported(tmp_path: Path) -> None:
    import sys

    path = tmp_path / "bp.py"
    path.write_text("from mlplatform import Platform\nplatform = Platform(name='fraud', team='risk-ml')\n")
    before = set(sys.modules)
    load(path)
    assert {m for m in set(sys.modules) - before if m.startswith("mlplatform_blueprint_")} == set()
