"""Components on pulumi-kubernetes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlplatform.program import ProgramContext


def build(ctx: ProgramContext) -> None:
    """The components whose target is kubernetes."""
