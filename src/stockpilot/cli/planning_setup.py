"""What a planner sets for the planning run, from the command line (the same services as
``/api/v1/planning-events``, ``/order-terms``, ``/pilots`` and ``/policies/overrides``):

    stockpilot events add NAME --start D --end D --uplift-pct P [--sku S] [--site C]
    stockpilot events list | delete ID
    stockpilot order-terms set SUPPLIER [--min-order-value V] [--free-freight-value V]
    stockpilot order-terms list
    stockpilot pilot start NAME --scope demand_class=lumpy [--service-level 0.97]
                                [--segment-policies]
    stockpilot pilot list | end ID | report ID [--holdout 26 --period week]
    stockpilot policy-type SKU SITE TYPE --reason CODE

Every write acts as the system user; errors exit with code 2 and name the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Connection

from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import StockpilotError

__all__ = ["register"]

T = TypeVar("T")

events_app = typer.Typer(
    help="Known events and promotions: forecast uplifts.", no_args_is_help=True
)
terms_app = typer.Typer(
    help="Suppliers' minimum order value and free freight.", no_args_is_help=True
)
pilot_app = typer.Typer(help="A challenger policy set on one segment.", no_args_is_help=True)


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _fail(exc: StockpilotError) -> typer.Exit:
    where = f" ({exc.field})" if exc.field else ""
    Console(stderr=True).print(f"[red]error:[/red] {exc.detail}{where}")
    return typer.Exit(code=2)


def _write(work: Callable[[Connection], T]) -> T:
    from stockpilot.bootstrap import open_database

    db = open_database()
    try:
        return db.run(work)
    except StockpilotError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()


def _read(work: Callable[[Connection], T]) -> T:
    from stockpilot.bootstrap import open_database

    db = open_database()
    try:
        with db.read() as conn:
            return work(conn)
    except StockpilotError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()


def _table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for name in rows[0] if rows else ["(none)"]:
        table.add_column(name)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row.values()])
    return table


def _iso(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("not an ISO date (YYYY-MM-DD)", param_hint=option) from exc


def _money(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise typer.BadParameter("not a decimal amount", param_hint=option) from exc
    if not amount.is_finite() or amount < 0:
        raise typer.BadParameter("must be a non-negative amount", param_hint=option)
    return amount


@events_app.command("add")
def events_add(
    name: str,
    start: Annotated[str, typer.Option("--start", help="first day (YYYY-MM-DD)")],
    end: Annotated[str, typer.Option("--end", help="last day (YYYY-MM-DD)")],
    uplift_pct: Annotated[float, typer.Option("--uplift-pct", min=-99.99, max=1000.0)],
    sku: Annotated[str | None, typer.Option("--sku", help="one item (default: every)")] = None,
    site: Annotated[str | None, typer.Option("--site", help="one site (default: every)")] = None,
    family: Annotated[
        str | None, typer.Option("--family", help="every item of one family (instead of --sku)")
    ] = None,
) -> None:
    """Add an event: the forecast over the window is raised by --uplift-pct."""
    from stockpilot.replenishment.setup import create_event

    event = _write(
        lambda conn: create_event(
            conn, SYSTEM, name=name, start_date=_iso(start, "--start"),
            end_date=_iso(end, "--end"), uplift_pct=uplift_pct, sku=sku, site_code=site,
            family=family,
        )
    )  # fmt: skip
    _console().print(f"event {event.id}: {event.name} {event.start_date}…{event.end_date}")


@events_app.command("list")
def events_list() -> None:
    from stockpilot.replenishment.setup import list_events

    rows = _read(lambda conn: list_events(conn, SYSTEM, after_id=None, limit=10_000))
    _console().print(_table([asdict(r) for r in rows], f"{len(rows)} events"))


@events_app.command("delete")
def events_delete(event_id: int) -> None:
    from stockpilot.replenishment.setup import delete_event

    _write(lambda conn: delete_event(conn, SYSTEM, event_id))
    _console().print(f"event {event_id} deleted")


@terms_app.command("set")
def terms_set(
    supplier: str,
    min_order_value: Annotated[str | None, typer.Option("--min-order-value")] = None,
    free_freight_value: Annotated[str | None, typer.Option("--free-freight-value")] = None,
) -> None:
    """Set (or clear, with neither option) a supplier's order-value terms."""
    from stockpilot.replenishment.setup import set_order_terms

    minimum = _money(min_order_value, "--min-order-value")
    free = _money(free_freight_value, "--free-freight-value")
    terms = _write(
        lambda conn: set_order_terms(
            conn, SYSTEM, supplier, min_order_value=minimum, free_freight_value=free
        )
    )
    _console().print(_table([asdict(terms)], f"order terms of {supplier}"))


@terms_app.command("list")
def terms_list() -> None:
    from stockpilot.replenishment.setup import list_order_terms

    rows = _read(list_order_terms)
    _console().print(_table([asdict(r) for r in rows], "order terms"))


@pilot_app.command("start")
def pilot_start(
    name: str,
    scope: Annotated[
        str, typer.Option("--scope", help="demand_class=VALUE, abc=VALUE or family=VALUE")
    ],
    service_level: Annotated[
        float | None, typer.Option("--service-level", min=0.5, max=0.9999)
    ] = None,
    segment_policies: Annotated[bool, typer.Option("--segment-policies")] = False,
) -> None:
    """Start a pilot: from the next planning run its segment uses the challenger's settings."""
    from stockpilot.replenishment.setup import create_pilot

    field, _, value = scope.partition("=")
    pilot = _write(
        lambda conn: create_pilot(
            conn, SYSTEM, name=name, scope_field=field.strip(), scope_value=value.strip(),
            service_level=service_level, segment_policies=segment_policies,
        )
    )  # fmt: skip
    _console().print(f"pilot {pilot.id} active on {pilot.scope_field}={pilot.scope_value}")


@pilot_app.command("list")
def pilot_list() -> None:
    from stockpilot.replenishment.setup import list_pilots

    rows = _read(lambda conn: list_pilots(conn, after_id=None, limit=10_000))
    _console().print(_table([asdict(r) for r in rows], f"{len(rows)} pilots"))


@pilot_app.command("end")
def pilot_end(pilot_id: int) -> None:
    from stockpilot.replenishment.setup import end_pilot

    pilot = _write(lambda conn: end_pilot(conn, SYSTEM, pilot_id))
    _console().print(f"pilot {pilot.id} {pilot.status}")


@pilot_app.command("report")
def pilot_report_command(
    pilot_id: int,
    holdout: Annotated[int, typer.Option("--holdout", min=4, max=52)] = 26,
    period: Annotated[str, typer.Option("--period", help="week or month")] = "week",
    service_type: Annotated[str, typer.Option("--service-type")] = "fill_rate",
) -> None:
    """Replay the pilot's segment under champion and challenger, and the verdict."""
    from stockpilot.bootstrap import open_database
    from stockpilot.cli.plan import _check_choice, _frame_table
    from stockpilot.replenishment.replays import ReplayRequest, pilot_report

    _check_choice(period, ("week", "month"), "--period")
    _check_choice(service_type, ("cycle", "fill_rate"), "--service-type")
    db = open_database()
    try:
        report = pilot_report(
            db, SYSTEM, pilot_id, ReplayRequest(holdout, period, None, service_type)
        )
    except StockpilotError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
    console = _console()
    console.print(_frame_table(report.groups, f"Pilot {pilot_id}: challenger vs rest"))
    console.print(f"verdict: {report.verdict} ({report.reason})")


def policy_type_command(
    sku: str,
    site: str,
    policy_type: Annotated[
        str, typer.Argument(help="stock, make_to_order, transfer_fulfilled or phase_out")
    ],
    reason: Annotated[str, typer.Option("--reason", help="a reason code")],
    comment: Annotated[str | None, typer.Option("--comment")] = None,
) -> None:
    """Set the policy type of one item-location; it overrides the segment rules."""
    from stockpilot.replenishment.actions import set_policy_override

    done = _write(
        lambda conn: set_policy_override(
            conn, SYSTEM, sku, site, service_level=None, criticality=None, reason=reason,
            comment=comment, policy_type=policy_type, keep_others=True,
        )
    )  # fmt: skip
    _console().print(f"{done.sku}@{done.site}: {done.policy_type}")


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
    app.add_typer(terms_app, name="order-terms")
    app.add_typer(pilot_app, name="pilot")
    app.command("policy-type")(policy_type_command)
