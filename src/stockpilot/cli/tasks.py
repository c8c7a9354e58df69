"""``stockpilot tasks …``: warehouse task commands run from a terminal or a scheduler."""

from __future__ import annotations

from typing import Annotated

import typer


def top_off(
    site: Annotated[str, typer.Option("--site", help="the site whose pick faces to top off")],
) -> None:
    """Create replenishment tasks for every pick face below its min (run when it is quiet)."""
    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.outbound.replenishment import top_off as run_top_off
    from stockpilot.shared.actor import SYSTEM

    @handled
    def run() -> None:
        with database() as db:
            ids = db.run(lambda conn: run_top_off(conn, SYSTEM, site))
        stdout().print(f"{len(ids)} replenishment task(s) created at {site}")

    run()


def register(app: typer.Typer) -> None:
    """Add the ``tasks`` command group to ``app``."""
    group = typer.Typer(help="Warehouse tasks.", no_args_is_help=True)
    group.command("top-off")(top_off)
    app.add_typer(group, name="tasks")
