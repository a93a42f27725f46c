"""`mlplatform sandbox`: a local AWS emulator seeded like the deployed stacks, with two people."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlplatform.cli._promotion import Json, command
from mlplatform.cli.output import err, out, print_json
from mlplatform.errors import MlplatformError


@command
def sandbox(
    blueprint: Annotated[Path, typer.Argument(help="Blueprint whose environments to create locally.")],
    port: Annotated[int, typer.Option("--port", "-p", help="Port on 127.0.0.1. Omitted: 5000.")] = 5000,
    as_json: Json = False,
) -> None:
    """Start a local AWS emulator (moto) on 127.0.0.1, seeded like the deployed stacks, with a
    promoter (bob) and an approver (alice); Ctrl-C stops it."""
    import os
    import threading

    from mlplatform.promotion import sandbox as sb
    from mlplatform.promotion.project import DUTY_ROLES_ENV

    environments = sb.resolved_environments(str(blueprint))
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)
    try:
        server, url = sb.start(port)
    except OSError as exc:
        raise MlplatformError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; pick another --port"
        ) from None
    try:
        seeded = sb.seed(environments, url)
        people = sb.people(url, environments[0][1].region)
        region = environments[0][1].region
        if as_json:
            print_json(
                {
                    "endpoint_url": url,
                    "region": region,
                    "environments": [s.__dict__ for s in seeded],
                    "people": [p.__dict__ for p in people],
                }
            )
        else:
            for s in seeded:
                out.print(
                    f"{s.platform}/{s.env}: bucket {s.registry_bucket}, ledger {s.ledger_table} "
                    f"(write-once copy {s.archive_bucket}), {len(s.model_package_groups)} model package group(s), "
                    f"{len(s.alarms)} alarm(s) in OK",
                    markup=False,
                )
            out.print("\nin each shell:", markup=False)
            out.print(f"  export AWS_ENDPOINT_URL={url} AWS_DEFAULT_REGION={region} {DUTY_ROLES_ENV}=1", markup=False)
            for p in people:
                out.print(
                    f"then, as {p.name} ({p.duty}): export AWS_ACCESS_KEY_ID={p.access_key_id} "
                    f"AWS_SECRET_ACCESS_KEY={p.secret_access_key}",
                    markup=False,
                )
            out.print("\nsandbox running; press Ctrl-C to stop (its state is lost)", markup=False)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            err.print("stopped", markup=False)
    finally:
        server.stop()
