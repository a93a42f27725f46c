"""Named points in a promotion where a fault-injection test can stop the process.

With MLPLATFORM_CHECKPOINT=<name>:<folder>, reaching checkpoint <name> creates <folder>/reached
and waits (bounded) until <folder>/release exists. Tests use it to kill the process or stop the
AWS endpoint at a known point instead of sleeping. Unset, a checkpoint costs one env lookup.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV_VAR = "MLPLATFORM_CHECKPOINT"
WAIT_SECONDS = 120.0


def checkpoint(name: str) -> None:
    spec = os.environ.get(ENV_VAR)
    if not spec:
        return
    wanted, _, folder = spec.partition(":")
    if wanted != name or not folder:
        return
    base = Path(folder)
    reached = base / "reached"
    if reached.exists():  # only the first time a checkpoint is reached in this process
        return
    reached.write_text(str(os.getpid()))
    deadline = time.monotonic() + WAIT_SECONDS
    release = base / "release"
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
