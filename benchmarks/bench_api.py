"""Stock moves through the HTTP API vs the same service call, same run.

What an integrator sees: ``POST /api/v1/moves`` with a bearer token and an Idempotency-Key,
one request per document, sent over a kept-alive HTTP connection to ``stockpilot serve``
(uvicorn, in its own process, on the same machine) — routing, auth, validation, idempotency
record, posting, audit, outbox, JSON answer — against the baseline of
``operations.relocate`` inside ``db.run`` with the same lines, interleaved. Documents of 1 and
of 100 lines. Reported as lines per second and as the ratio to the service call. Client and
server share the machine's two cores, as a local integration would.

    python -m benchmarks.bench_api [--backend sqlite|postgresql] [--quick]
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from functools import partial
from typing import Any

import httpx
from sqlalchemy.engine import Connection

from benchmarks.common import fresh_database, interleave, per_backend_main
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


def _serve(db: Database) -> tuple[subprocess.Popen[bytes], str]:
    """``stockpilot serve`` on the benchmark's database; returns once it answers."""
    port = _free_port()
    env = {**os.environ, "STOCKPILOT_DATABASE_URL": db.url.render_as_string(hide_password=False)}
    command = [sys.executable, "-m", "stockpilot.cli.main", "serve", "--port", str(port)]
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
    return {"backend": backend, "one_line_documents": single, "hundred_line_documents": batch}


def main(argv: list[str] | None = None) -> int:
    return per_backend_main(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
