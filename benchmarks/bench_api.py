"""Stock moves through the HTTP API vs the same service call, same run.

What an integrator sees: ``POST /api/v1/moves`` with a bearer token and an Idempotency-Key,
one request per document, sent over a kept-alive HTTP connection to ``stockpilot serve``
(uvicorn, in its own process, on the same machine) — routing, auth, validation, idempotency
record, posting, audit, outbox, JSON answer — against the baseline of
``operations.relocate`` inside ``db.run`` with the same lines, interleaved. Documents of 1 and
of 100 lines. Reported as lines per second and as the ratio to the service call. Client and
server share the machine's two cores, as a local integration would.

Serving on several cores, same run: a kept-alive ``GET /api/v1/sites`` from 1 and from 8
concurrent clients (threads, one connection each) against ``stockpilot serve --workers 1``
(the baseline), ``--workers 4`` (gunicorn with uvicorn workers) and, for scale, the launch the
docs used to give (``uvicorn --factory … --workers 4``); the three servers run side by side and
are measured in turn, round by round. Reported as p50/p99 latency and requests per second, and
as the median per-round ratio to the baseline at the same number of clients.

    python -m benchmarks.bench_api [--backend sqlite|postgresql] [--quick]
"""

from __future__ import annotations

import itertools
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from sqlalchemy.engine import Connection

from benchmarks.common import fresh_database, interleave, per_backend_main, percentile
from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import ItemCreate
from stockpilot.governance.users import add_user
from stockpilot.ledger import operations
from stockpilot.network import service as network
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM

ITEMS = 100
OPENING = 10**12


def setup(db: Database) -> str:
    """A site with two bins, ITEMS items with plenty of stock in the first; an admin token."""

    def work(conn: Connection) -> str:
        network.create_site(conn, SYSTEM, "WH1", kind="hub")
        for code in ("A-01", "A-02"):
            network.create_location(conn, SYSTEM, "WH1", code, "storage")
        for i in range(ITEMS):
            catalog.create_item(conn, SYSTEM, ItemCreate(sku=f"A-{i:04d}"))
        lines = [operations.StockLine(f"A-{i:04d}", OPENING, "A-01") for i in range(ITEMS)]
        operations.receive(conn, SYSTEM, "WH1", lines)
        return add_user(conn, SYSTEM, "bench", "admin", ())[1]

    return db.run(work)


def _lines(n: int, forward: bool) -> list[dict[str, Any]]:
    source, target = ("A-01", "A-02") if forward else ("A-02", "A-01")
    return [
        {"sku": f"A-{i:04d}", "quantity": 1, "location": source, "to_location": target}
        for i in range(n)
    ]


def _relocate(conn: Connection, lines: list[operations.StockLine]) -> object:
    return operations.relocate(conn, SYSTEM, "WH1", lines)


def compare(db: Database, client: httpx.Client, token: str, n: int, docs: int, rounds: int) -> Any:
    keys = itertools.count()
    flip = itertools.cycle([True, False])  # there and back, so no bin ever runs dry

    def api() -> int:
        for _ in range(docs):
            body = {"site": "WH1", "lines": _lines(n, next(flip))}
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{n}-{next(keys)}"}
            response = client.post("/api/v1/moves", json=body, headers=headers)
            assert response.status_code == 201, response.text
        return docs * n

    def service() -> int:
        for _ in range(docs):
            lines = [
                operations.StockLine(
                    line["sku"], line["quantity"], line["location"], line["to_location"]
                )
                for line in _lines(n, next(flip))
            ]
            db.run(partial(_relocate, lines=lines))
        return docs * n

    result = interleave(api, service, rounds=rounds, unit="lines/s").summary()
    result["lines_per_document"] = n
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(db: Database, launch: Launch | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``stockpilot serve`` (or another launch) on the benchmark's database; returns once it
    answers."""
    port = _free_port()
    env = {**os.environ, "STOCKPILOT_DATABASE_URL": db.url.render_as_string(hide_password=False)}
    command = (launch or SERVE_ONE).command(port)
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


# --- serving on several cores --------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    """One way of starting the server: a label and its command for a port."""

    label: str
    workers: int
    argv: tuple[str, ...]

    def command(self, port: int) -> list[str]:
        return [sys.executable, *self.argv, "--port", str(port)]


def _stockpilot_serve(workers: int) -> Launch:
    argv = ("-m", "stockpilot.cli.main", "serve", "--workers", str(workers))
    return Launch(f"stockpilot serve --workers {workers}", workers, argv)


SERVE_ONE = _stockpilot_serve(1)
LAUNCHES = (
    SERVE_ONE,  # the baseline
    _stockpilot_serve(4),
    Launch(
        "uvicorn --workers 4 (the former docs)",
        4,
        ("-m", "uvicorn", "--factory", "stockpilot.api.app:create_app", "--workers", "4"),
    ),
)
CLIENT_COUNTS = (1, 8)
READ_PATH = "/api/v1/sites"
WARM_UP_REQUESTS = 20


@dataclass(frozen=True)
class Burst:
    """One round of one launch at one number of clients."""

    latencies_ms: list[float]
    requests_per_s: float

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 0.99)


def burst(base: str, token: str, clients: int, requests_each: int) -> Burst:
    """``clients`` threads, each on its own kept-alive connection (warmed up first), send
    ``requests_each`` GETs at once; throughput is every request over the wall time."""
    started: list[float] = []
    barrier = threading.Barrier(clients, action=lambda: started.append(time.perf_counter()))
    per_client: list[list[float]] = [[] for _ in range(clients)]
    headers = {"Authorization": f"Bearer {token}"}

    def one(slot: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(WARM_UP_REQUESTS):
                client.get(READ_PATH).raise_for_status()
            barrier.wait()
            out = per_client[slot]
            for _ in range(requests_each):
                t0 = time.perf_counter()
                response = client.get(READ_PATH)
                out.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.text

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started[0]
    latencies = [ms for client in per_client for ms in client]
    return Burst(latencies, len(latencies) / elapsed)


def compare_launches(db: Database, token: str, *, rounds: int, quick: bool) -> dict[str, Any]:
    """Every launch up side by side; each round measures each launch at each client count,
    the order of launches reversed every other round."""
    requests_each = {1: 100 if quick else 400, 8: 25 if quick else 100}
    load_at_start = [round(x, 2) for x in os.getloadavg()]  # the machine is shared: say how busy
    servers = [(launch, *_serve(db, launch)) for launch in LAUNCHES]
    bursts: dict[tuple[str, int], list[Burst]] = {}
    try:
        for _, _, base in servers:  # unrecorded: every worker booted and warm
            burst(base, token, max(CLIENT_COUNTS), 10)
        for r in range(rounds + rounds % 2):
            order = servers if r % 2 == 0 else servers[::-1]
            for clients in CLIENT_COUNTS:
                for launch, _, base in order:
                    result = burst(base, token, clients, requests_each[clients])
                    bursts.setdefault((launch.label, clients), []).append(result)
    finally:
        for _, process, _ in servers:
            process.terminate()
            process.wait(timeout=30)
    return {
        "path": READ_PATH,
        "rounds": rounds + rounds % 2,
        "requests_per_client": requests_each,
        "baseline": SERVE_ONE.label,
        "load_average_at_start": load_at_start,
        "rows": [
            _launch_summary(
                launch, clients, bursts[(launch.label, clients)], bursts[(SERVE_ONE.label, clients)]
            )
            for clients in CLIENT_COUNTS
            for launch in LAUNCHES
        ],
    }


def _launch_summary(
    launch: Launch, clients: int, subject: list[Burst], baseline: list[Burst]
) -> dict[str, Any]:
    def ratios(figure: Callable[[Burst], float]) -> list[float]:
        return [figure(s) / figure(b) for s, b in zip(subject, baseline, strict=True)]

    def median_of(figure: Callable[[Burst], float]) -> float:
        return round(statistics.median(figure(b) for b in subject), 2)

    throughput = ratios(lambda b: b.requests_per_s)
    return {
        "launch": launch.label,
        "workers": launch.workers,
        "clients": clients,
        "p50_ms": median_of(lambda b: b.p50),
        "p99_ms": median_of(lambda b: b.p99),
        "requests_per_s": round(median_of(lambda b: b.requests_per_s)),
        "p50_ratio": round(statistics.median(ratios(lambda b: b.p50)), 3),
        "p99_ratio": round(statistics.median(ratios(lambda b: b.p99)), 3),
        "throughput_ratio": round(statistics.median(throughput), 3),
        "throughput_ratios": [round(x, 3) for x in throughput],
    }


def run(backend: str, *, quick: bool = False) -> dict[str, Any]:
    with fresh_database(backend, "api") as db:
        token = setup(db)
        server, base = _serve(db)
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                rounds = 2 if quick else 8
                sqlite = backend == "sqlite"
                single = compare(db, client, token, 1, (200 if sqlite else 100) // 4**quick, rounds)
                batch = compare(db, client, token, 100, (20 if sqlite else 10) // 4**quick, rounds)
        finally:
            server.terminate()
            server.wait(timeout=30)
        serving = compare_launches(db, token, rounds=2 if quick else 8, quick=quick)
    return {
        "backend": backend,
        "one_line_documents": single,
        "hundred_line_documents": batch,
        "serving": serving,
    }


def main(argv: list[str] | None = None) -> int:
    return per_backend_main(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
