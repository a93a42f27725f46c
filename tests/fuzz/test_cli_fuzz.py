"""Property tests: whatever a blueprint file contains, `mlplatform validate` exits 0 or 1 with a
message, never a traceback."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mlplatform.cli.app import app
from tests.conftest import BLUEPRINTS

SOURCES = [p.read_text(encoding="utf-8") for p in sorted(BLUEPRINTS.glob("*.py"))]
SNIPPETS = [
    "per_env(dev=1)",
    "per_env(qa=2, default=3)",
    "None",
    "[]",
    "{}",
    '"x"',
    "-1",
    "10**6",
    "1/0",
    "Platform(name='p', team='t')",
    "NodePool(name='n', instance_type='g5.xlarge')",
    "colour=1,",
    ")",
    "(",
    "exit(3)",
    "raise SystemExit",
    "\x00",
    "import nothing_here",
]

CLI_FUZZ = settings(
    max_examples=int(os.environ.get("MLPLATFORM_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _validate(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "blueprint.py"
        path.write_bytes(content)
        result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert f"{path}: invalid, " in result.stderr


@st.composite
def mutated_source(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SOURCES)).splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        op = draw(st.sampled_from(["delete", "insert", "replace_value", "splice"]))
        if op == "delete":
            del lines[i]
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(SNIPPETS)))
        elif op == "replace_value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}={draw(st.sampled_from(SNIPPETS))},"
        else:
            cut = draw(st.integers(min_value=0, max_value=len(lines[i])))
            lines[i] = lines[i][:cut] + draw(st.text(max_size=6)) + lines[i][cut:]
        if not lines:
            break
    return "\n".join(lines) + "\n"


@CLI_FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(content: bytes) -> None:
    _validate(content)


@CLI_FUZZ
@given(st.text(max_size=200))
def test_random_text(content: str) -> None:
    _validate(content.encode("utf-8", "surrogatepass"))


@CLI_FUZZ
@given(mutated_source())
def test_mutated_example_sources(source: str) -> None:
    _validate(source.encode("utf-8", "surrogatepass"))
