"""Pulling the plug: a server killed with SIGKILL mid-stream loses no acknowledged write.

A client streams receipts, each with its own Idempotency-Key and its own lot (so every receipt
can be found again by its lot code). The server process is killed at a random moment, several
times; after each restart the request that was in flight is retried with the same key. In the
end every acknowledged receipt has exactly its one move, no receipt is half-written or doubled,
and the ledger verifies clean.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from stockpilot.governance.users import add_user
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import lot, move
from stockpilot.shared.actor import SYSTEM
from tests.support.world import build_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]

KILLS = 5


@dataclass(frozen=True)
class Receipt:
    key: str
    lot_code: str
    quantity: int

    def body(self) -> dict[str, object]:
        line = {"sku": "LOT-1", "quantity": self.quantity, "location": "A-01", "lot": self.lot_code}
        return {"site": "WH1", "lines": [line]}


@dataclass
class Stream:
    acknowledged: list[Receipt] = field(default_factory=list)
    unanswered: list[Receipt] = field(default_factory=list)
    unexpected: list[tuple[Receipt, int, str]] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``stockpilot serve`` as a child process on a free port."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, token: str) -> None:
        script = Path(sys.executable).with_name("stockpilot")
        env = {**os.environ, "STOCKPILOT_DATABASE_URL": self.database_url}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(script), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        headers = {"Authorization": f"Bearer {token}"}
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            try:
                if httpx.get(f"{self.url}/api/v1/sites", headers=headers).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("server did not come up:\n" + self.log.read_text()[-2000:])

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _post(client: httpx.Client, receipt: Receipt) -> httpx.Response:
    return client.post(
        "/api/v1/receipts", json=receipt.body(), headers={"Idempotency-Key": receipt.key}
    )


def _stream(client: httpx.Client, first: int, stop: threading.Event, out: Stream) -> None:
    """Post receipts until told to stop or until the server goes away mid-request."""
    n = first
    while not stop.is_set():
        receipt = Receipt(key=f"kill-{n}", lot_code=f"K{n:05d}", quantity=1 + n % 7)
        n += 1
        try:
            response = _post(client, receipt)
        except httpx.TransportError:
            out.unanswered.append(receipt)
            return
        if response.status_code == 201:
            out.acknowledged.append(receipt)
        else:
            out.unexpected.append((receipt, response.status_code, response.text[:300]))


@pytest.fixture
def served_db(db_url: str, tmp_path: Path) -> Iterator[tuple[Database, str, Server]]:
    database = Database(db_url, pool_size=2, max_overflow=2)
    build_world(database)
    _, token = database.run(lambda c: add_user(c, SYSTEM, "streamer", "admin"))
    server = Server(db_url, tmp_path / "server.log")
    try:
        yield database, token, server
    finally:
        server.stop()
        database.dispose()


def _receipts_in_ledger(db: Database) -> dict[str, tuple[int, int]]:
    """lot code -> (number of moves, quantity moved) for every lot the stream created."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(lot.c.lot_code, sa.func.count(move.c.id), sa.func.sum(move.c.quantity))
            .outerjoin(move, move.c.lot_id == lot.c.id)
            .group_by(lot.c.lot_code)
        ).all()
    return {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows}


def test_killing_the_server_mid_stream_loses_no_acknowledged_receipt(
    served_db: tuple[Database, str, Server],
) -> None:
    db, token, server = served_db
    rng = random.Random(2024)
    stream = Stream()
    headers = {"Authorization": f"Bearer {token}"}
    for round_no in range(KILLS):
        server.start(token)
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for receipt in stream.unanswered:  # a client retries what got no answer
                assert _post(client, receipt).status_code == 201
                stream.acknowledged.append(receipt)
            stream.unanswered.clear()
            stop = threading.Event()
            writer = threading.Thread(
                target=_stream, args=(client, round_no * 100_000, stop, stream)
            )
            writer.start()
            time.sleep(rng.uniform(0.2, 1.0))
            server.kill()
            stop.set()
            writer.join(timeout=30)
    server.start(token)
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for receipt in stream.unanswered:
            assert _post(client, receipt).status_code == 201
            stream.acknowledged.append(receipt)
        replay = _post(client, stream.acknowledged[0])  # a replay writes nothing
        assert replay.status_code == 201
        verified = client.get("/api/v1/ledger/verify").json()

    assert stream.unexpected == []
    assert len(stream.acknowledged) > KILLS
    ledger = _receipts_in_ledger(db)
    for receipt in stream.acknowledged:
        assert ledger.get(receipt.lot_code) == (1, receipt.quantity), receipt
    # A lot without its move would be a half-written receipt.
    assert all(moves == 1 for moves, _ in ledger.values())
    assert verified["ok"] and verified["drifts"] == []
    with db.read() as conn:
        assert verify(conn).ok
