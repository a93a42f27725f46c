"""What a deploy accepts as a promoted model: the program's own gate, after the CLI's.

A stack file is text anyone with the repository can edit. `pulumi up` (and the offline plan,
which runs the same program) refuses a `mlplatform:models` entry unless:
- its uri is the version's artifact in this environment's own registry
  (s3://<platform>-<env>-model-registry-<account>/models/<model>/<version>/<file>), so an edited
  entry cannot make the endpoint's execution role read another bucket;
- its image is pinned by digest (repo@sha256:...), so no tag moved after approval is served;
- its sha256 is one;
- its baseline, if any, is that version's baseline in the same registry
  (s3://.../models/<model>/<version>/baseline/), so the drift monitor checks the served version's
  traffic against that version's statistics and reads nothing outside the registry.
With credentials (a real `pulumi up`), `mlplatform.promotion.deployed.verify` also requires the
entry to be exactly the head of the environment's verified ledger.

Imports only the standard library and naming: the components and the program both use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from mlplatform import naming

_DIGEST = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Entry(Protocol):
    @property
    def version(self) -> str: ...
    @property
    def uri(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def image(self) -> str: ...
    @property
    def baseline(self) -> str | None: ...


def problems(models: Mapping[str, Entry], names: naming.Names, account: str) -> list[str]:
    """Why each promoted-model entry cannot be deployed here; empty when all can."""
    bucket = names.registry_bucket(account)
    found: list[str] = []
    for model, entry in sorted(models.items()):
        where = f"mlplatform:models.{model}"
        prefix = f"s3://{bucket}/{naming.registry_version_prefix(model, entry.version)}"
        rest = entry.uri[len(prefix) :] if entry.uri.startswith(prefix) else ""
        if not rest or "/" in rest:
            found.append(
                f"{where}.uri is {entry.uri}, not version {entry.version}'s artifact in the {names.env} registry "
                f"({prefix}<file>): only what `mlplatform promote` copied there is deployed"
            )
        if not _DIGEST.match(entry.image):
            found.append(
                f"{where}.image is {entry.image}, not pinned by digest (repo@sha256:...): a tag can point at "
                "other bytes than the ones promoted"
            )
        if not _SHA256.match(entry.sha256):
            found.append(f"{where}.sha256 is {entry.sha256!r}, not a SHA-256 (64 hex digits)")
        baseline = f"s3://{bucket}/{naming.baseline_prefix(model, entry.version)}"
        if entry.baseline is not None and entry.baseline != baseline:
            found.append(
                f"{where}.baseline is {entry.baseline}, not version {entry.version}'s baseline in the {names.env} "
                f"registry ({baseline}): only what `mlplatform promote` copied there is monitored against"
            )
    return found
