"""`mlplatform feast-config`: the feature_store.yaml a team's Feast repo uses in one environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlplatform.cli.output import err, print_json, user_errors, write_atomically
from mlplatform.cli.plan import BlueprintArg, EnvOpt, JsonOpt, ProjectDirOpt, StackFileOpt, StackOpt

StoreOpt = Annotated[
    str | None, typer.Option("--store", help="FeatureStore name, when the blueprint has several.", show_default=False)
]
AccountOpt = Annotated[
    str | None,
    typer.Option(
        "--account-id",
        help="AWS account of the environment. Omitted: the stack file's aws:allowedAccountIds, "
        "else the account-id parameter pulumi up published in SSM.",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the file here (e.g. feature_repo/feature_store.yaml), not stdout."),
]


@user_errors
def feast_config(
    blueprint: BlueprintArg,
    env: EnvOpt = None,
    stack: StackOpt = None,
    stack_file: StackFileOpt = None,
    store: StoreOpt = None,
    account_id: AccountOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
    project_dir: ProjectDirOpt = None,
) -> None:
    """Print (or write) Feast's feature_store.yaml for a FeatureStore in one environment.

    The same text `pulumi up` exports as <store>_feature_store_yaml, built offline from the
    blueprint and the stack file: the platform's registry, online tables and Athena workgroup.
    """
    from mlplatform.plan.feast import feast_config_for
    from mlplatform.stack_config import find_project_root

    if env is None and stack is None and stack_file is None:
        raise typer.BadParameter("give --env, --stack or --stack-file", param_hint="--env")
    root = find_project_root(project_dir) if project_dir is not None else None
    found = feast_config_for(
        blueprint, env, stack=stack, stack_file=stack_file, store=store, account_id=account_id, root=root
    )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(output, found.text)  # a Feast repo never sees half a file
    if as_json:
        print_json(
            {
                "store": found.store,
                "environment": found.environment,
                "stack": found.stack,
                "account_id": found.account_id,
                "file": str(output) if output is not None else None,
                "config": found.config,
            }
        )
    elif output is None:
        typer.echo(found.text, nl=False)
    if output is not None:
        err.print(
            f"wrote {output}: FeatureStore '{found.store}', environment '{found.environment}' "
            f"(account {found.account_id} from {found.account_from})",
            markup=False,
        )
