"""``stockpilot counts …``: the daily count program (from a scheduler) and count accuracy.

Approvals are not taken here: they need a named user other than the requester, which the API
knows from the bearer token (``POST /api/v1/counts/{id}/approve``)."""

from __future__ import annotations

from typing import Annotated

import typer

SiteOption = Annotated[str, typer.Option("--site", help="the site code")]


def program(site: SiteOption) -> None:
    """Create today's count program of a site: bins due by ABC class and by exception."""
    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.counting.programs import create_program
    from stockpilot.shared.actor import SYSTEM

    @handled
    def run() -> None:
        with database() as db:
            made = db.run(lambda conn: create_program(conn, SYSTEM, site))
        if made["count"] is None:
            stdout().print(f"nothing is due for counting at {made['site']} today")
            return
        triggers = ", ".join(f"{k} {v}" for k, v in sorted(made["by_trigger"].items()))
        stdout().print(
            f"count {made['count']} created at {made['site']}: {made['lines']} line(s) ({triggers})"
        )

    run()


def accuracy(site: SiteOption) -> None:
    """Count accuracy of a site and of each counter (first counts without variance)."""
    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.counting.service import count_accuracy
    from stockpilot.shared.actor import SYSTEM

    @handled
    def run() -> None:
        with database() as db, db.read() as conn:
            body = count_accuracy(conn, SYSTEM, site)

        def share(value: float | None) -> str:
            return "-" if value is None else f"{value:.1%}"

        out = stdout()
        out.print(
            f"{body['site']}: {body['lines_exact']}/{body['lines_counted']} exact "
            f"({share(body['accuracy'])})"
        )
        for op in body["operators"]:
            out.print(
                f"  user {op['user_id']}: {op['lines_exact']}/{op['lines_counted']} "
                f"({share(op['accuracy'])})"
            )

    run()


def register(app: typer.Typer) -> None:
    """Add the ``counts`` command group to ``app``."""
    group = typer.Typer(help="Cycle counts.", no_args_is_help=True)
    group.command("program")(program)
    group.command("accuracy")(accuracy)
    app.add_typer(group, name="counts")
