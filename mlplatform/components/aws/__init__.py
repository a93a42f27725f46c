"""Components on pulumi-aws."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlplatform.program import ProgramContext


def build(ctx: ProgramContext) -> None:
    """Platform core, network, and the components whose target is aws, sagemaker or eks."""
