"""Base class of every spec model: strict about unknown fields, immutable once resolved."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Component names become parts of AWS and Kubernetes names: keep them DNS-label shaped.
Name = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", min_length=2, max_length=40),
    Field(description="Lowercase letters, digits and '-', starting with a letter; 2-40 characters."),
]


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
