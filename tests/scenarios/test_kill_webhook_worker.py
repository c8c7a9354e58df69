"""Pulling the plug on the webhook worker: ``stockpilot worker`` killed with SIGKILL five times
while 1,000 moves are posted, each publishing ``stock.moved``. In the end every event reached
the local endpoint at least once, every request's signature verifies, and no event of an
aggregate (a site's moves) arrived before one posted earlier."""

from __future__ import annotations

import functools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger import operations
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import outbox
from stockpilot.shared.actor import SYSTEM
from stockpilot.webhooks import subscriptions
from stockpilot.webhooks.schemas import WebhookCreate
from tests.support.receiver import Received, Receiver
from tests.support.world import build_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]

KILLS = 5
EVENTS = 1000


class Worker:
    """``stockpilot worker`` as a child process."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "STOCKPILOT_DATABASE_URL": self.database_url}
        command = [sys.executable, "-m", "stockpilot.cli.main", "worker", "--batch-size", "50",
                   "--poll-interval", "0.05", "--lease-seconds", "2", "--timeout", "1"]  # fmt: skip
        started = self._started()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self._started() == started:  # wait until it delivers: a kill must hit real work
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.02)

    def _started(self) -> int:
        return self.log.read_text().count("delivering") if self.log.exists() else 0

    def kill(self) -> None:
        assert self.process is not None
        assert self.process.poll() is None, self.log.read_text()[-2000:]
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> int | None:
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        self.process = None
        return code


def _receive(conn: Connection, *, site: str, line: operations.StockLine) -> None:
    operations.receive(conn, SYSTEM, site, [line])


def _post_moves(db: Database, done: threading.Event, errors: list[BaseException]) -> None:
    """1,000 one-line receipts, alternating the two sites (two aggregates), each its own
    transaction and its own ``stock.moved`` event."""
    try:
        for n in range(EVENTS):
            line = operations.StockLine("SKU-1", 1 + n % 3, "A-01")
            db.run(functools.partial(_receive, site="WH1" if n % 2 else "WH2", line=line))
            if n % 50 == 0:
                time.sleep(0.05)  # spread the stream over the kills
    except BaseException as exc:
        errors.append(exc)
    finally:
        done.set()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver.running() as r:
        yield r


def test_killing_the_worker_mid_stream_loses_no_event_and_keeps_each_aggregate_in_order(
    db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    db = Database(db_url, pool_size=2, max_overflow=2)
    build_world(db)
    cmd = WebhookCreate(url=receiver.url, topics=["stock.moved"])
    secret = db.run(lambda c: subscriptions.create_subscription(c, SYSTEM, cmd))["secret"]
    worker = Worker(db_url, tmp_path / "worker.log")
    rng = random.Random(9)
    done, errors = threading.Event(), list[BaseException]()
    stream = threading.Thread(target=_post_moves, args=(db, done, errors))
    stream.start()
    kills = 0
    try:
        delivered_at_kill = []
        while kills < KILLS:
            worker.start()
            time.sleep(rng.uniform(0.2, 0.8))
            worker.kill()
            kills += 1
            delivered_at_kill.append(len(receiver.snapshot()))
        worker.start()
        stream.join(timeout=120)
        assert errors == [] and done.is_set()
        with db.read() as conn:
            expected = set(
                conn.execute(
                    sa.select(outbox.c.id).where(outbox.c.topic == "stock.moved")
                ).scalars()
            )
        assert len(expected) == EVENTS
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and _ids(receiver.snapshot()) < expected:
            time.sleep(0.1)
        assert worker.stop() == 0  # SIGTERM: the worker finishes its cycle and exits cleanly
    finally:
        worker.stop()
        stream.join(timeout=60)

    received = receiver.snapshot()
    # The kills fell while events were being delivered, not before or after the stream.
    assert delivered_at_kill[0] > 0 and delivered_at_kill[-1] < len(received), delivered_at_kill
    assert _ids(received) == expected  # every event at least once
    assert (tmp_path / "worker.log").read_text().count("delivering") == KILLS + 1
    assert all(r.verifies(secret) for r in received)  # every request signed
    first_seen: dict[str, list[int]] = {}
    seen: set[int] = set()
    for r in received:
        event_id = int(r.headers["webhook-id"].removeprefix("evt_"))
        if event_id not in seen:
            seen.add(event_id)
            first_seen.setdefault(r.message["aggregate"], []).append(event_id)
    assert len(first_seen) == 2
    for ids in first_seen.values():  # no event arrived before an earlier one of its aggregate
        assert ids == sorted(ids)
    assert "stopped" in (tmp_path / "worker.log").read_text()
    with db.read() as conn:
        assert verify(conn).ok
    db.dispose()


def _ids(received: list[Received]) -> set[int]:
    return {int(r.headers["webhook-id"].removeprefix("evt_")) for r in received}
