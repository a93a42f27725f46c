"""Run the Feast CLI (`feast ...`) as a role: `python -m tests.feast.feast_as ROLE CALLS -- ARGS`.

ROLE is a JSON file {"policy": <policy document>, "kms_keys": {bucket: key ARN}}; every AWS call
the CLI makes is checked against it (tests/feast/iam.py) and written to CALLS as JSON on exit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.feast.iam import Role, guard


def main(argv: list[str]) -> int:
    role_file, calls_file, dashes, *args = argv
    assert dashes == "--", "usage: feast_as ROLE CALLS -- ARGS"
    spec = json.loads(Path(role_file).read_text())
    role = Role(spec["policy"], spec["kms_keys"])
    from feast.cli.cli import cli

    code = 0
    try:
        with guard(role):
            cli.main(args=args, prog_name="feast", standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    except Exception as exc:  # what `feast` would print before exiting 1
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    finally:
        calls = [
            {"service": c.service, "operation": c.operation, "needs": c.needs, "allowed": c.allowed} for c in role.calls
        ]
        Path(calls_file).write_text(json.dumps(calls))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
