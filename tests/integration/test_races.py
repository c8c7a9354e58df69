"""Concurrent writers never oversell, never refuse stock that is there, and never leave drift.

Each client is a thread with its own pooled connection; the pool is sized so that a race uses
at most 40 of PostgreSQL's 100 connections (other test workers share the server). All race
tests sit in one xdist group so that two races never run side by side.
"""

from __future__ import annotations

import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import Connection

from stockpilot.governance.users import add_user
from stockpilot.ledger import operations, positions
from stockpilot.ledger.verify import verify
from stockpilot.outbound import sales_orders
from stockpilot.outbound.schemas import SalesOrderCreate
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import allocation, balance, sales_order_line
from stockpilot.shared.actor import SYSTEM
from tests.support.world import build_world, receive

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]

CLIENTS = 64


@pytest.fixture
def race_db(db_url: str) -> Iterator[Database]:
    """A database whose pool lets many threads hold connections at once (at most 40)."""
    database = Database(db_url, pool_size=20, max_overflow=20)
    yield database
    database.dispose()


@dataclass
class RaceResult:
    values: list[Any] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def race(workers: list[Callable[[], Any]]) -> RaceResult:
    """Start every worker at the same instant (a barrier) and collect results and errors."""
    barrier = threading.Barrier(len(workers))
    result = RaceResult()
    lock = threading.Lock()

    def run(work: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            value = work()
        except BaseException as exc:  # every error is a finding, whatever its type
            with lock:
                result.errors.append(exc)
        else:
            with lock:
                result.values.append(value)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    return result


def _balances_sane(conn: Connection) -> None:
    bad = conn.execute(
        sa.select(balance).where(
            balance.c.is_virtual.is_(False),
            sa.or_(
                balance.c.quantity_on_hand < 0,
                balance.c.quantity_allocated < 0,
                balance.c.quantity_allocated > balance.c.quantity_on_hand,
            ),
        )
    ).all()
    assert bad == []
    report = verify(conn)
    assert report.ok, report.drifts


def _order_and_allocate(db: Database, quantity: int) -> int:
    cmd = SalesOrderCreate.model_validate(
        {"site": "WH1", "customer": "C1", "lines": [{"sku": "SKU-1", "quantity": quantity}]}
    )
    order_id = db.run(lambda c: sales_orders.create(c, SYSTEM, cmd, 100))
    lines = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    return sum(ln.quantity_allocated_now for ln in lines)


@pytest.mark.parametrize("on_hand", [1, 2, 5, 10])
def test_sixty_four_clients_racing_for_the_last_units_never_oversell(
    race_db: Database, on_hand: int
) -> None:
    build_world(race_db)
    # Spread the stock over two bins when there is enough, so allocation splits across keys.
    first = on_hand // 2 if on_hand > 1 else on_hand
    receive(race_db, "SKU-1", first, "A-01")
    if on_hand - first:
        receive(race_db, "SKU-1", on_hand - first, "A-02")
    demand = [random.Random(on_hand * 1000 + i).randint(1, 3) for i in range(CLIENTS)]

    result = race([partial(_order_and_allocate, race_db, q) for q in demand])

    assert result.errors == []
    assert sum(result.values) == min(on_hand, sum(demand))  # no oversell, no spurious refusal
    with race_db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        assert (pos["quantity_on_hand"], pos["quantity_allocated"]) == (on_hand, on_hand)
        line_total = conn.execute(
            sa.select(sa.func.sum(sales_order_line.c.quantity_allocated))
        ).scalar_one()
        alloc_total = conn.execute(sa.select(sa.func.sum(allocation.c.quantity))).scalar_one()
        assert (line_total, alloc_total) == (on_hand, on_hand)
        _balances_sane(conn)


def _move(db: Database, source: str, target: str, quantity: int) -> None:
    line = operations.StockLine("SKU-1", quantity, source, to_location=target)
    db.run(lambda c: operations.relocate(c, SYSTEM, "WH1", [line]))


def _swap(db: Database, first: str, second: str) -> None:
    """One document moving units both ways: touches both keys, in opposite line order."""
    lines = [
        operations.StockLine("SKU-1", 1, first, to_location=second),
        operations.StockLine("SKU-1", 1, second, to_location=first),
    ]
    db.run(lambda c: operations.relocate(c, SYSTEM, "WH1", lines))


def _allocate_then(db: Database, quantity: int, finish: str) -> int:
    cmd = SalesOrderCreate.model_validate(
        {"site": "WH1", "customer": "C1", "lines": [{"sku": "SKU-1", "quantity": quantity}]}
    )
    order_id = db.run(lambda c: sales_orders.create(c, SYSTEM, cmd, 100))
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    if finish == "release":
        db.run(lambda c: sales_orders.release_order(c, SYSTEM, order_id))
        return 0
    done = db.run(lambda c: sales_orders.pick_order(c, SYSTEM, order_id))
    return done["quantity_posted"]


def test_opposite_bin_moves_picks_and_releases_racing_leave_no_error_and_no_drift(
    race_db: Database,
) -> None:
    build_world(race_db)
    start = 500
    for bin_code in ("A-01", "A-02", "B-01"):
        receive(race_db, "SKU-1", start, bin_code)
    bins = ["A-01", "A-02", "B-01"]
    rng = random.Random(7)
    workers: list[Callable[[], Any]] = []
    for i in range(48):
        kind = i % 4
        a, b = rng.sample(bins, 2)
        if kind == 0:
            q = 1 + rng.randrange(3)
            workers.append(partial(_move, race_db, a, b, q))
        elif kind == 1:
            workers.append(partial(_swap, race_db, a, b))
        else:
            finish = "pick" if kind == 2 else "release"
            workers.append(partial(_allocate_then, race_db, 4, finish))

    result = race(workers)

    assert result.errors == []
    picked = sum(v for v in result.values if isinstance(v, int))
    with race_db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        assert pos["quantity_on_hand"] == 3 * start - picked
        assert pos["quantity_allocated"] == 0
        _balances_sane(conn)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(race_db: Database) -> Iterator[str]:
    """The real application on a real uvicorn server in a background thread; yields its URL."""
    from stockpilot.api.app import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(race_db), host="127.0.0.1", port=port, log_level="warning", backlog=256
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def _http_order_and_allocate(client: httpx.Client, quantity: int) -> tuple[list[int], int]:
    """Returns every status seen and the units this client was granted."""
    created = client.post(
        "/api/v1/sales-orders",
        json={"site": "WH1", "customer": "C1", "lines": [{"sku": "SKU-1", "quantity": quantity}]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    if created.status_code != 201:
        return [created.status_code], 0
    order_id = created.json()["id"]
    allocated = client.post(
        f"/api/v1/sales-orders/{order_id}/allocate",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    if allocated.status_code != 200:
        return [201, allocated.status_code], 0
    return [201, 200], sum(ln["quantity_allocated"] for ln in allocated.json()["lines"])


def test_sixty_four_http_clients_racing_for_the_last_units_get_no_server_error(
    race_db: Database, served: str
) -> None:
    build_world(race_db)
    receive(race_db, "SKU-1", 3, "A-01")
    receive(race_db, "SKU-1", 2, "A-02")
    _, token = race_db.run(lambda c: add_user(c, SYSTEM, "racer", "admin"))
    demand = [random.Random(i).randint(1, 3) for i in range(CLIENTS)]
    clients = [
        httpx.Client(base_url=served, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        for _ in demand
    ]
    try:
        result = race(
            [partial(_http_order_and_allocate, c, q) for c, q in zip(clients, demand, strict=True)]
        )
        assert result.errors == []
        statuses = [s for seen, _ in result.values for s in seen]
        assert [s for s in statuses if s != 201 and s != 200] == []
        assert sum(units for _, units in result.values) == 5
        stock = clients[0].get("/api/v1/stock", params={"sku": "SKU-1", "site": "WH1"}).json()
        assert (stock["quantity_on_hand"], stock["quantity_allocated"]) == (5, 5)
        verified = clients[0].get("/api/v1/ledger/verify").json()
        assert verified["ok"] and verified["drifts"] == []
    finally:
        for c in clients:
            c.close()
