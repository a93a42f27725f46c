"""`mlplatform cost`: monthly estimate per component, from the packaged price table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mlplatform.cli.output import PLAN_INTERRUPTED, err, out, print_json, user_errors
from mlplatform.cli.plan import BlueprintArg, EnvOpt, JsonOpt, ProjectDirOpt, StackFileOpt, StackOpt, load_plan

if TYPE_CHECKING:
    from mlplatform.plan.cost import Estimate


@user_errors(interrupted=PLAN_INTERRUPTED)
def cost(
    blueprint: BlueprintArg,
    env: EnvOpt = None,
    stack: StackOpt = None,
    stack_file: StackFileOpt = None,
    live_prices: Annotated[
        bool, typer.Option("--live-prices", help="Ask the AWS Pricing API (needs AWS credentials).")
    ] = False,
    as_json: JsonOpt = False,
    project_dir: ProjectDirOpt = None,
) -> None:
    """Estimate the monthly cost: instance hours at minimum and maximum scale, fixed items;
    usage-based and unpriceable resources are listed, not guessed."""
    from mlplatform.plan.cost import estimate, price_table

    plan = load_plan(blueprint, env, stack, stack_file, quiet=as_json, project_dir=project_dir)
    table = price_table()
    if live_prices:
        from mlplatform.plan.live_prices import with_live_prices

        table = with_live_prices(table, plan)
    result = estimate(plan, table)
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False)
    if as_json:
        print_json(result.to_json())
    else:
        print_estimate(result)


def print_estimate(est: Estimate) -> None:
    for line in estimate_lines(est):
        out.print(line, markup=False)


def estimate_lines(est: Estimate) -> list[str]:
    """Per component its range and items, then the total, what is billed by usage, what cannot be
    priced, what is free (counted by type), and the source."""
    from collections import Counter

    from mlplatform.plan.view import display_type

    lines = [f"Monthly estimate for {est.region}, {est.currency}, {est.hours_per_month:g} hours a month"]
    for name, (lo, hi) in est.components().items():
        lines.append(f"{name}: {lo:,.2f} .. {hi:,.2f}")
        for i in (i for i in est.items if i.component == name):
            lines.append(
                f"  {i.resource}: {i.what} at {i.unit_price:g}/{i.unit}: {i.monthly_min:,.2f} .. {i.monthly_max:,.2f}"
            )
    lines.append(f"total: {est.monthly_min:,.2f} .. {est.monthly_max:,.2f} {est.currency}/month")
    lines += [
        f"usage-based, not priced: {u.component} {u.resource} ({display_type(u.type)}): {u.reason}"
        for u in est.usage_based
    ]
    lines += [f"cannot price: {u.component} {u.resource} ({display_type(u.type)}): {u.reason}" for u in est.not_priced]
    if est.free:
        kinds = Counter(display_type(u.type) for u in est.free)
        listed = ", ".join(f"{t} {n}" for t, n in sorted(kinds.items()))
        lines.append(f"free, no charge of their own: {len(est.free)} resources ({listed})")
    lines += [f"note: {note}" for note in est.notes]
    lines.append(f"prices as of {est.date}: {est.source}")
    return lines
