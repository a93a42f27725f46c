"""`mlplatform cost`: monthly estimate per component, from the packaged price table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mlplatform.cli.output import out, print_json, user_errors
from mlplatform.cli.plan import BlueprintArg, EnvOpt, JsonOpt, StackFileOpt, StackOpt, load_plan

if TYPE_CHECKING:
    from mlplatform.plan.cost import Estimate


@user_errors
def cost(
    blueprint: BlueprintArg,
    env: EnvOpt = None,
    stack: StackOpt = None,
    stack_file: StackFileOpt = None,
    live_prices: Annotated[
        bool, typer.Option("--live-prices", help="Ask the AWS Pricing API (needs AWS credentials).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Estimate the monthly cost: instance hours at minimum and maximum scale, fixed items;
    usage-based and unpriceable resources are listed, not guessed."""
    from mlplatform.plan.cost import estimate, price_table

    plan = load_plan(blueprint, env, stack, stack_file, quiet=as_json)
    table = price_table()
    if live_prices:
        from mlplatform.plan.live_prices import with_live_prices

        table = with_live_prices(table, plan)
    result = estimate(plan, table)
    if as_json:
        print_json(result.to_json())
    else:
        print_estimate(result)


def print_estimate(est: Estimate) -> None:
    from rich.table import Table

    table = Table(title=f"Monthly estimate, {est.region} ({est.currency})", title_justify="left", show_footer=True)
    table.add_column("component", footer="total")
    table.add_column("resource")
    table.add_column("what")
    table.add_column("unit price", justify="right")
    table.add_column("min / month", justify="right", footer=f"{est.monthly_min:,.2f}")
    table.add_column("max / month", justify="right", footer=f"{est.monthly_max:,.2f}")
    for i in est.items:
        table.add_row(
            i.component,
            i.resource,
            i.what,
            f"{i.unit_price:g}/{i.unit}",
            f"{i.monthly_min:,.2f}",
            f"{i.monthly_max:,.2f}",
        )
    out.print(table)
    for name, (lo, hi) in est.components().items():
        out.print(f"{name}: {lo:,.2f} .. {hi:,.2f} {est.currency}/month", markup=False)
    out.print(f"total: {est.monthly_min:,.2f} .. {est.monthly_max:,.2f} {est.currency}/month", markup=False)
    for u in est.usage_based:
        out.print(f"usage-based, not priced: {u.component} {u.resource} ({u.type}): {u.reason}", markup=False)
    for u in est.not_priced:
        out.print(f"cannot price: {u.component} {u.resource} ({u.type}): {u.reason}", markup=False)
    for note in est.notes:
        out.print(f"note: {note}", markup=False)
    out.print(f"prices as of {est.date}: {est.source}", markup=False)
