"""The ``stockpilot`` command line: parse, call a service, render — nothing else.

Nothing here connects or reads configuration at import time: each command opens the database
itself (``STOCKPILOT_DATABASE_URL``, default a SQLite file under ./var/). Domain errors become a
one-line message on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from stockpilot.shared.errors import RowError, StockpilotError

IMPORT_HELP = (
    "items, customers, suppliers, locations, stock, demand-history, receipt-history, "
    "purchase-orders or asns (CSV, or an X12 856 file)"
)
P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="stockpilot",
    help="Inventory control for distributors: ledger, warehouse flows, planning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Users and their bearer tokens.", no_args_is_help=True)
ledger_app = typer.Typer(help="The stock ledger.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(ledger_app, name="ledger")


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def handled(command: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into a clear message on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except StockpilotError as exc:
            where = f" ({exc.field})" if exc.field else ""
            stderr().print(f"[red]error[/red]{where}: {exc.detail}", markup=True)
        except RowError as exc:
            stderr().print(f"[red]error[/red]: {exc}; nothing was imported", markup=True)
        except OperationalError as exc:  # unreachable server, locked file, server limits
            first = str(exc.orig or exc).strip().splitlines()[0]
            stderr().print(f"[red]database error[/red]: {first}", markup=True)
        raise typer.Exit(code=1)

    return wrapper


@contextmanager
def rich_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback ``(phase, done, total)`` drawing Rich bars, silent off a terminal."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = stderr()
    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.completed:>10,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as bars:

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=max(total, 1))
            bars.update(tasks[phase], completed=done, total=max(total, 1))

        yield report


@contextmanager
def database() -> Iterator[Any]:
    from stockpilot.bootstrap import open_database
    from stockpilot.settings import Settings

    # Read the environment now, not from a cache: one process may run several commands (tests).
    db = open_database(Settings())
    try:
        yield db
    finally:
        db.dispose()


@app.command()
@handled
def init() -> None:
    """Create or upgrade the database schema and seed reference data."""
    from stockpilot.bootstrap import initialise

    with database() as db:
        initialise(db)
        stdout().print(f"database ready: {db.url.render_as_string(hide_password=True)}")


@app.command()
@handled
def demo(
    skus: Annotated[int, typer.Option(min=1, help="Number of items.")] = 2000,
    sites: Annotated[int, typer.Option(min=1, max=20, help="Sites: one hub + branches.")] = 4,
    years: Annotated[int, typer.Option(min=1, max=5, help="Years of history.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 42,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when items already exist.")
    ] = False,
) -> None:
    """Load a synthetic industrial distributor (sites, bins, items, history, stock)."""
    from stockpilot.bootstrap import initialise
    from stockpilot.demo import DemoSpec, build_demo, has_items

    with database() as db:
        initialise(db)
        if if_empty and has_items(db):
            stdout().print(
                "demo skipped: the database already has items "
                "(for a new token: stockpilot user add NAME --role admin)"
            )
            return
        spec = DemoSpec(skus=skus, sites=sites, years=years, seed=seed)
        with rich_progress() as report:
            result = build_demo(db, spec, progress=report)
    out = stdout()
    for line in result.summary_lines():
        out.print(line)
    out.print(f"demo admin user {result.admin_name!r}; bearer token:")
    typer.echo(result.admin_token)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Processes: 1 is uvicorn alone, more are gunicorn's workers."),
    ] = 1,
    graceful_timeout: Annotated[
        int, typer.Option(min=1, help="Seconds requests under way may take after SIGTERM.")
    ] = 5,
) -> None:
    """Serve the HTTP API (and web pages): uvicorn, or gunicorn with uvicorn workers."""
    from stockpilot.cli.serve import ServeOptions
    from stockpilot.cli.serve import serve as run_server

    run_server(ServeOptions(host, port, workers=workers, graceful_timeout=graceful_timeout))


@user_app.command("add")
@handled
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="Role, e.g. admin, planner, warehouse_operator.")],
    site: Annotated[
        list[str] | None, typer.Option("--site", help="Limit to a site (repeatable).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Also set a password for the web pages (8 to 200 characters)."),
    ] = None,
) -> None:
    """Create a user; the bearer token is printed once, as the last line."""
    from stockpilot.governance.sign_in import check_password_text, set_password
    from stockpilot.governance.users import add_user
    from stockpilot.shared.actor import SYSTEM

    if password is not None:
        check_password_text(password)

    def create(conn: Any) -> str:
        user_id, token = add_user(conn, SYSTEM, name, role, site or ())
        if password is not None:
            set_password(conn, SYSTEM, user_id, password)
        return token

    with database() as db:
        token = db.run(create)
    scope = ", ".join(site) if site else "all sites"
    stdout().print(f"user {name!r} created (role {role}, {scope}); bearer token:")
    typer.echo(token)


@app.command("import")
@handled
def import_(
    kind: Annotated[str, typer.Argument(help=IMPORT_HELP)],
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
) -> None:
    """Import a CSV file: every row or none (a bad row is named by row and column)."""
    from stockpilot.importing import import_csv
    from stockpilot.shared.actor import SYSTEM

    with database() as db:
        summary = import_csv(db, kind, file, actor=SYSTEM)
    stdout().print(summary.describe())


@app.command("export")
@handled
def export(
    kind: Annotated[
        str, typer.Argument(help="items, customers, suppliers, locations, stock or moves")
    ],
    out: Annotated[Path | None, typer.Option(help="Write to this file (default stdout).")] = None,
    site: Annotated[
        str | None, typer.Option(help="Only this site (locations, stock, moves).")
    ] = None,
) -> None:
    """Export as CSV, in the columns the import reads back."""
    from stockpilot.importing import export_csv

    with database() as db, db.read() as conn:
        if out is None:
            export_csv(conn, kind, sys.stdout, site)
            sys.stdout.flush()
            return
        with out.open("w", newline="", encoding="utf-8") as handle:
            rows = export_csv(conn, kind, handle, site)
    stderr().print(f"exported {rows} {kind} rows to {out}")


@ledger_app.command("verify")
@handled
def ledger_verify() -> None:
    """Recompute every balance from the moves; exit 1 and list drifts if any differ."""
    from stockpilot.ledger.verify import verify

    with database() as db, db.read() as conn:
        report = verify(conn)
        names = _drift_names(conn, report.drifts)
    out = stdout()
    out.print(
        f"checked {report.balances_checked} balances and {report.moves_checked} moves: "
        f"{len(report.drifts)} drifts"
    )
    out.print(
        f"checked {report.value_areas_checked} value balances against their entries and "
        f"cost layers: {len(report.value_drifts)} value drifts"
    )
    if report.ok:
        return
    for v in report.value_drifts:
        out.print(
            f"value drift: item {v.item_id} site {v.site_id} transit {v.transit_location_id} "
            f"{v.field}: expected {v.expected}, actual {v.actual}"
        )
    if not report.drifts:
        raise typer.Exit(code=1)
    table = Table(title="Ledger drift")
    for column in ("sku", "location", "lot", "status", "owner", "field", "expected", "actual"):
        numeric = column in ("expected", "actual", "lot", "owner")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for d in report.drifts:
        sku, where = names.get((d.item_id, d.location_id), (str(d.item_id), str(d.location_id)))
        table.add_row(
            sku, where, str(d.lot_id), d.status, str(d.owner_id), d.field, str(d.expected),
            str(d.actual),
        )  # fmt: skip
    # Off a terminal (a log, a pipe) give the table room rather than folding every cell.
    (out if out.is_terminal else Console(highlight=False, width=160)).print(table)
    raise typer.Exit(code=1)


def _drift_names(conn: Any, drifts: list[Any]) -> dict[tuple[int, int], tuple[str, str]]:
    """``(item_id, location_id) -> (sku, "SITE/bin")`` for the drifted keys."""
    import sqlalchemy as sa

    from stockpilot.persistence.tables import item, location, site

    if not drifts:
        return {}
    skus = dict(
        conn.execute(
            sa.select(item.c.id, item.c.sku).where(item.c.id.in_({d.item_id for d in drifts}))
        ).all()
    )
    places = {
        r.id: f"{r.site}/{r.code}"
        for r in conn.execute(
            sa.select(location.c.id, location.c.code, site.c.code.label("site"))
            .join(site, site.c.id == location.c.site_id)
            .where(location.c.id.in_({d.location_id for d in drifts}))
        )
    }
    return {
        (d.item_id, d.location_id): (
            skus.get(d.item_id, str(d.item_id)),
            places.get(d.location_id, str(d.location_id)),
        )
        for d in drifts
    }


def _register_plugins() -> None:
    try:
        from stockpilot.cli import plan
    except ModuleNotFoundError as exc:
        # The planning commands are optional until their module exists; any other missing
        # module is a real fault and must show.
        if exc.name != "stockpilot.cli.plan":
            raise
        return
    plan.register(app)


_register_plugins()
__import__("stockpilot.cli.tasks", fromlist=["register"]).register(app)  # stockpilot tasks …
__import__("stockpilot.cli.consignment", fromlist=["register"]).register(app)  # consignment …
__import__("stockpilot.cli.valuation", fromlist=["register"]).register(app)  # … valuation …
# stockpilot events / order-terms / pilot / policy-type
__import__("stockpilot.cli.planning_setup", fromlist=["register"]).register(app)
__import__("stockpilot.cli.worker", fromlist=["register"]).register(app)  # stockpilot worker
__import__("stockpilot.cli.kits", fromlist=["register"]).register(app)  # stockpilot kits …

if __name__ == "__main__":
    app()
__import__("stockpilot.cli.counts", fromlist=["register"]).register(app)  # stockpilot counts …
