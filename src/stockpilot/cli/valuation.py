"""``stockpilot valuation …``: inventory value at a date and cost of goods sold, as text or
CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

import typer

Site = Annotated[str | None, typer.Option("--site", help="a site code (default: every site)")]
Sku = Annotated[str | None, typer.Option("--sku", help="one item (default: every item)")]


def _day(text: str | None, name: str) -> date | None:
    from stockpilot.shared.errors import ValidationFailed

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{name} must be an ISO date (YYYY-MM-DD)", field=name) from None


def _filters(conn: Any, site: str | None, sku: str | None) -> Any:
    from stockpilot.network.service import site_by_code
    from stockpilot.shared.errors import ValidationFailed
    from stockpilot.valuation import reports

    site_ids = None if site is None else [site_by_code(conn, site).id]
    item_id = None
    if sku is not None:
        item_id = reports.item_id_of(conn, sku)
        if item_id is None:
            raise ValidationFailed(f"unknown sku {sku!r}", field="sku")
    return reports.Filters(site_ids, item_id)


def value(
    site: Site = None,
    sku: Sku = None,
    at: Annotated[str | None, typer.Option("--at", help="end of this day (YYYY-MM-DD)")] = None,
    csv_out: Annotated[bool, typer.Option("--csv", help="one CSV row per item")] = False,
) -> None:
    """Quantity and value of the company's stock, now or at the end of a day."""
    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.valuation import reports

    @handled
    def run() -> None:
        with database() as db, db.read() as conn:
            body = reports.inventory_value(
                conn, _filters(conn, site, sku), _day(at, "at"), by_item=True
            )
        if csv_out:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["sku", "quantity_on_hand", "value", "currency"])
            for row in body["items"]:
                writer.writerow(
                    [row["sku"], row["quantity_on_hand"], row["value"], body["currency"]]
                )
            typer.echo(buffer.getvalue(), nl=False)
            return
        when = body["at"] or "now"
        stdout().print(
            f"{site or 'all sites'} {sku or 'all items'} at {when}: "
            f"{body['quantity_on_hand']} units, {body['value']} {body['currency']} "
            f"(in transit: {body['quantity_in_transit']} units, "
            f"{body['in_transit_value']} {body['currency']})"
        )

    run()


def cogs(
    site: Site = None,
    sku: Sku = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD)")] = None,
) -> None:
    """Cost of goods sold (shipments to customers, net of returns) over a period."""
    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.valuation import reports

    @handled
    def run() -> None:
        with database() as db, db.read() as conn:
            body = reports.cost_of_goods_sold(
                conn, _filters(conn, site, sku), _day(date_from, "from"), _day(date_to, "to")
            )
        stdout().print(
            f"{site or 'all sites'} {sku or 'all items'}: {body['quantity']} units shipped, "
            f"cost of goods sold {body['cogs']} {body['currency']}"
        )

    run()


def aging(
    site: Site = None,
    sku: Sku = None,
) -> None:
    """Open FIFO layers by the age of their first receipt, as CSV (one row per item and age)."""
    from stockpilot.cli.main import database, handled
    from stockpilot.shared.clock import today
    from stockpilot.valuation import reports

    @handled
    def run() -> None:
        with database() as db, db.read() as conn:
            body = reports.aging(conn, _filters(conn, site, sku), today())
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["sku", "age_days", "quantity", "value", "currency"])
        for row in body["items"]:
            writer.writerow(
                [row["sku"], row["age_days"], row["quantity"], row["value"], body["currency"]]
            )
        typer.echo(buffer.getvalue(), nl=False)

    run()


def dead_stock(
    site: Site = None,
    days: Annotated[
        int, typer.Option("--days", min=1, max=3650, help="no issue for this long")
    ] = 180,
) -> None:
    """Items holding value with no issue for ``--days`` days, largest value first, as CSV."""
    from stockpilot.cli.main import database, handled
    from stockpilot.shared.clock import today
    from stockpilot.valuation import reports

    @handled
    def run() -> None:
        with database() as db, db.read() as conn:
            body = reports.dead_stock(conn, _filters(conn, site, None), today(), days)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["sku", "quantity_on_hand", "value", "currency"])
        for row in body["items"]:
            writer.writerow([row["sku"], row["quantity_on_hand"], row["value"], body["currency"]])
        typer.echo(buffer.getvalue(), nl=False)

    run()


def journal(
    site: Site = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD)")] = None,
) -> None:
    """Journal lines of every valued move in the period, as CSV for the general ledger."""
    from stockpilot.cli.main import database, handled
    from stockpilot.settings import get_settings
    from stockpilot.valuation import journal as entries
    from stockpilot.valuation.money import render

    @handled
    def run() -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["company", "date", "account", "debit", "credit", "document_type",
                         "document_id", "line_no"])  # fmt: skip
        with database() as db, db.read() as conn:
            flt = _filters(conn, site, None)
            for ln in entries.journal(
                conn, flt, _day(date_from, "from"), _day(date_to, "to"), get_settings().accounts
            ):
                writer.writerow([
                    ln.company, ln.day.isoformat(), ln.account, render(ln.debit),
                    render(ln.credit), ln.document_type, ln.document_id, ln.line_no,
                ])  # fmt: skip
        typer.echo(buffer.getvalue(), nl=False)

    run()


def register(app: typer.Typer) -> None:
    """Add the ``valuation`` command group to ``app``."""
    group = typer.Typer(help="Inventory valuation.", no_args_is_help=True)
    group.command("value")(value)
    group.command("cogs")(cogs)
    group.command("aging")(aging)
    group.command("journal")(journal)
    group.command("dead-stock")(dead_stock)
    app.add_typer(group, name="valuation")
