"""The per-run context every component builder receives: the resolved blueprint, the stack's
config and promoted models, and what components publish for each other.

It lives below both the program (which fills it) and the components (which read it), so neither
imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from mlplatform import naming
from mlplatform.spec.platform import MANAGED_BY as MANAGED_BY  # the value of every managed-by tag and label
from mlplatform.spec.platform import Platform
from mlplatform.stack_config import PromotedModel


@dataclass
class ProgramContext:
    """Everything a component builder needs, resolved once per run."""

    platform: Platform
    env: str
    project_root: Path
    blueprint: str
    models: dict[str, PromotedModel]
    config: pulumi.Config
    names: naming.Names
    # Outputs components publish for each other (core key and buckets, network, clusters...).
    shared: dict[str, Any] = field(default_factory=dict)

    def tags(self, component: str) -> dict[str, str]:
        """Tags set explicitly on every taggable resource: SDK mocks and `pulumi preview` both
        show them, which provider `default_tags` would not under mocks."""
        return self.platform.resource_tags(self.env, component)
