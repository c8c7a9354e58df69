"""``stockpilot consignment …``: what supplier-owned stock was used, for the owners' invoices."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer


def consumption(
    owner: Annotated[str | None, typer.Option("--owner", help="the owner's company code")] = None,
    site: Annotated[str | None, typer.Option("--site", help="one site only")] = None,
    date_from: Annotated[
        dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")
    ] = None,
    date_to: Annotated[
        dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="last day")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="one CSV row per record")] = False,
) -> None:
    """Consigned units used (shipped) in a period, per owner and item."""
    from rich.table import Table

    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.consignment.service import consumption as report_of
    from stockpilot.consignment.service import consumption_csv
    from stockpilot.shared.actor import SYSTEM

    @handled
    def run() -> None:
        with database() as db, db.read() as conn:
            report = report_of(
                conn,
                SYSTEM,
                owner=owner,
                site_code=site,
                date_from=date_from.date() if date_from else None,
                date_to=date_to.date() if date_to else None,
            )
        if as_csv:
            typer.echo(consumption_csv(report), nl=False)
            return
        table = Table("owner", "sku", "quantity used")
        for t in report["totals"]:
            table.add_row(t["owner"], t["sku"], f"{t['quantity']:,}")
        stdout().print(table)

    run()


def register(app: typer.Typer) -> None:
    """Add the ``consignment`` command group to ``app``."""
    group = typer.Typer(help="Consigned (supplier-owned) stock.", no_args_is_help=True)
    group.command("consumption")(consumption)
    app.add_typer(group, name="consignment")
