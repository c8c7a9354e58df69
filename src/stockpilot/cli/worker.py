"""``stockpilot worker``: the process that delivers webhook events (webhooks/delivery.py).

Run one beside the server (``make run`` does); several may run at once, on one or more
machines. SIGTERM or SIGINT lets the cycle under way finish and record its attempts, then the
process exits 0; a killed worker loses nothing (its leases expire and the deliveries are made
again).
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer


def worker(
    batch_size: Annotated[int, typer.Option(min=1, help="Deliveries claimed per cycle.")] = 200,
    concurrency: Annotated[int, typer.Option(min=1, help="Aggregates delivered side by side.")] = 8,
    poll_interval: Annotated[
        float, typer.Option(min=0.01, help="Seconds to wait when there is nothing to send.")
    ] = 0.5,
    lease_seconds: Annotated[
        float, typer.Option(min=1, help="How long a claim holds before another worker may take it.")
    ] = 60.0,
    timeout: Annotated[float, typer.Option(min=0.1, help="HTTP timeout per attempt (s).")] = 10.0,
    once: Annotated[bool, typer.Option(help="Run one cycle and exit.")] = False,
) -> None:
    """Deliver webhook events from the outbox until stopped (SIGTERM / Ctrl-C)."""
    from stockpilot.cli.main import database, handled, stderr
    from stockpilot.webhooks.delivery import DeliveryWorker, WorkerOptions

    @handled
    def run() -> None:
        options = WorkerOptions(
            batch_size=batch_size,
            lease_seconds=lease_seconds,
            poll_interval=poll_interval,
            timeout_seconds=timeout,
            concurrency=concurrency,
        )
        stop = threading.Event()
        with database() as db:
            delivery = DeliveryWorker(db, options)
            try:
                if once:
                    report = delivery.run_once()
                    stderr().print(
                        f"{report.delivered} delivered, {report.failed} failed "
                        f"({report.fanned_out} events fanned out)"
                    )
                    return
                for signum in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(signum, lambda *_: stop.set())
                stderr().print(f"webhook worker {options.name} delivering")
                delivery.run(stop)
                stderr().print(f"webhook worker {options.name} stopped")
            finally:
                delivery.close()

    run()


def register(app: typer.Typer) -> None:
    """Add the ``worker`` command to ``app``."""
    app.command("worker")(worker)
