"""JSON Schema of the blueprint language, for editors and other tools."""

from __future__ import annotations

from typing import Any

from mlplatform.spec.platform import Platform


def blueprint_schema() -> dict[str, Any]:
    schema = Platform.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlplatform blueprint (Platform)"
    schema["description"] = (
        "A Platform resolved for one environment. In a Python blueprint any field may instead be "
        "per_env(<env>=value, ..., default=value); each resolved value must match this schema."
    )
    return schema
