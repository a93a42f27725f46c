"""`--apply`: run `pulumi up` for the target stack through the Pulumi Automation API.

The Automation API drives the `pulumi` binary. `preflight` checks, before a promotion changes
anything, that it can run; a failure of `pulumi up` itself leaves the promotion (stack file and
ledger) recorded for a later `pulumi up`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from mlplatform.promotion.errors import PromotionError


class PulumiUnavailable(PromotionError):
    pass


def preflight(root: Path, stack: str) -> None:
    """Everything --apply needs, checked before anything changes: the Pulumi CLI on PATH, the
    Automation API importable, and the project file it runs."""
    if shutil.which("pulumi") is None:
        raise PulumiUnavailable(
            "--apply needs the Pulumi CLI, which is not installed (https://www.pulumi.com/docs/install/); "
            f"nothing was changed. Install it, or promote without --apply and run `pulumi up -s {stack}` later"
        )
    if not (root / "Pulumi.yaml").is_file():
        raise PulumiUnavailable(f"--apply needs {root / 'Pulumi.yaml'}, which is missing; nothing was changed")
    try:
        from pulumi import automation  # noqa: F401
    except ImportError as exc:
        raise PulumiUnavailable(f"--apply needs the Pulumi SDK's Automation API ({exc}); nothing was changed") from None


def pulumi_up(root: Path, stack: str, on_output: Callable[[str], None]) -> dict[str, object]:
    manual = f"run `pulumi up -s {stack}` from {root}"
    if shutil.which("pulumi") is None:
        raise PulumiUnavailable(
            f"--apply needs the Pulumi CLI, which is not installed (https://www.pulumi.com/docs/install/); "
            f"the promotion is recorded in the stack file and the ledger: {manual} to deploy it"
        )
    from pulumi import automation as auto

    try:
        selected = auto.select_stack(stack_name=stack, work_dir=str(root))
        result = selected.up(on_output=on_output)
    except FileNotFoundError as exc:
        raise PulumiUnavailable(
            f"--apply could not run the Pulumi CLI ({exc}); the promotion is recorded: {manual}"
        ) from None
    except auto.errors.CommandError as exc:
        raise PromotionError(
            f"`pulumi up -s {stack}` failed; the promotion is recorded in the stack file and the ledger. "
            f"Fix the cause and {manual}:\n{exc}"
        ) from None
    return {"result": result.summary.result, "resource_changes": result.summary.resource_changes}
