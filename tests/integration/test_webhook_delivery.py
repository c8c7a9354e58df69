"""Webhook delivery on a real database to a real local HTTP endpoint: the worker's cycle
(fan-out, claim with a lease, send, record), retries, order per aggregate, leases that
expire after a crash, redelivery and site-bound subscriptions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from stockpilot.ledger import operations
from stockpilot.persistence import journal
from stockpilot.persistence.db import Database
from stockpilot.persistence.webhook_tables import webhook_attempt, webhook_delivery
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.clock import utcnow
from stockpilot.webhooks import subscriptions
from stockpilot.webhooks.delivery import CycleReport, DeliveryWorker, WorkerOptions, claim
from stockpilot.webhooks.schemas import WebhookCreate
from tests.support.receiver import Receiver
from tests.support.world import build_world, receive


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver.running() as r:
        yield r


def _subscribe(db: Database, url: str, topics: list[str], site: str | None = None) -> dict:
    cmd = WebhookCreate(url=url, topics=topics, site=site)
    return db.run(lambda c: subscriptions.create_subscription(c, SYSTEM, cmd))


def _worker(db: Database, name: str = "w1", batch_size: int = 200) -> DeliveryWorker:
    options = WorkerOptions(
        name=name, timeout_seconds=2, lease_seconds=5, batch_size=batch_size, poll_interval=0.02
    )
    return DeliveryWorker(db, options)


def _events(db: Database, aggregate_id: str, count: int) -> None:
    def work(conn: sa.Connection) -> None:
        for n in range(count):
            journal.publish(
                conn,
                topic="test.event",
                aggregate_type="thing",
                aggregate_id=aggregate_id,
                site_id=None,
                payload={"n": n},
            )

    db.run(work)


def test_a_posted_move_reaches_the_subscriber_signed_with_its_secret(
    db: Database, receiver: Receiver
) -> None:
    build_world(db)
    hook = _subscribe(db, receiver.url, ["stock.moved"])
    receive(db, "SKU-1", 5, "A-01")
    worker = _worker(db)
    try:
        report = worker.run_once()
    finally:
        worker.close()
    assert report.delivered == 1
    (got,) = receiver.snapshot()
    assert got.verifies(hook["secret"])
    message = got.message
    assert message["type"] == "stock.moved"
    assert message["data"]["document_type"] == "receipt"
    assert [m["quantity"] for m in message["data"]["moves"]] == [5]
    with db.read() as conn:
        state = conn.execute(sa.select(webhook_delivery.c.state)).scalar_one()
        attempts = conn.execute(sa.select(sa.func.count()).select_from(webhook_attempt)).scalar()
    assert state == "delivered" and attempts == 1


def test_events_written_before_the_subscription_are_not_sent(
    db: Database, receiver: Receiver
) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    _subscribe(db, receiver.url, ["*"])
    worker = _worker(db)
    try:
        assert worker.run_once().claimed == 0
    finally:
        worker.close()
    assert receiver.snapshot() == []


def test_a_failing_endpoint_is_retried_later_and_later_events_of_its_aggregate_wait(
    db: Database, receiver: Receiver
) -> None:
    build_world(db)
    _subscribe(db, receiver.url, ["test.*"])
    _events(db, "A", 3)
    _events(db, "B", 1)
    receiver.fail_with = 503
    worker = _worker(db)
    try:
        first = worker.run_once()
        assert (first.delivered, first.failed) == (0, 2)  # A's first and B's only event
        with db.read() as conn:
            rows = conn.execute(
                sa.select(webhook_delivery).order_by(webhook_delivery.c.outbox_id)
            ).all()
        assert [r.attempts for r in rows] == [1, 0, 0, 1]
        assert all(r.state == "pending" and r.lease_owner is None for r in rows)
        assert rows[0].next_attempt_at >= utcnow() + timedelta(seconds=3)
        assert rows[0].last_status_code == 503
        receiver.fail_with = None
        assert worker.run_once().claimed == 0  # both heads wait for their retry: nothing jumps
        _make_due(db)
        assert worker.run_once().delivered == 4
    finally:
        worker.close()
    by_aggregate: dict[str, list[int]] = {}
    for message in receiver.messages():
        by_aggregate.setdefault(message["aggregate"], []).append(message["data"]["n"])
    assert by_aggregate == {"thing:A": [0, 1, 2], "thing:B": [0]}


def _make_due(db: Database) -> None:
    db.run(
        lambda c: c.execute(
            sa.update(webhook_delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
    )


def test_a_worker_killed_after_claiming_leaves_leases_another_worker_takes_when_they_expire(
    db: Database, receiver: Receiver
) -> None:
    build_world(db)
    _subscribe(db, receiver.url, ["test.*"])
    _events(db, "A", 5)
    crashed = _worker(db, "crashed")
    # The crashed worker fanned out and claimed, then died before sending anything.
    db.run(lambda c: crashed._prepare(c, CycleReport()))
    crashed.close()
    survivor = _worker(db, "survivor")
    try:
        assert survivor.run_once().claimed == 0  # the leases still hold
        db.run(
            lambda c: c.execute(
                sa.update(webhook_delivery).values(lease_until=utcnow() - timedelta(seconds=1))
            )
        )
        assert survivor.run_once().delivered == 5
    finally:
        survivor.close()
    assert [m["data"]["n"] for m in receiver.messages()] == [0, 1, 2, 3, 4]


def test_a_claim_never_takes_an_event_behind_one_another_worker_holds(db: Database) -> None:
    build_world(db)
    _subscribe(db, "http://127.0.0.1:9/hook", ["test.*"])
    _events(db, "A", 2)
    _events(db, "B", 1)
    worker = _worker(db)
    try:
        first = db.run(lambda c: worker._prepare(c, CycleReport()))
    finally:
        worker.close()
    assert len(first) == 3
    # Release only A's second event and B's: A's first is still held, so A's second waits.
    held = first[0].id
    db.run(
        lambda c: c.execute(
            sa.update(webhook_delivery)
            .where(webhook_delivery.c.id != held)
            .values(lease_until=None, lease_owner=None)
        )
    )
    now = utcnow()
    again = db.run(lambda c: claim(c, now, 10, "w2", now + timedelta(seconds=5)))
    assert [d.aggregate for d in again] == ["thing:B"]


def test_a_site_bound_subscription_hears_only_its_sites_moves(
    db: Database, receiver: Receiver
) -> None:
    build_world(db)
    _subscribe(db, receiver.url, ["stock.moved"], site="WH2")
    receive(db, "SKU-1", 5, "A-01", site="WH1")
    receive(db, "SKU-1", 7, "A-01", site="WH2")
    worker = _worker(db)
    try:
        worker.run_once()
    finally:
        worker.close()
    assert [m["data"]["moves"][0]["quantity"] for m in receiver.messages()] == [7]


def test_a_delivered_event_is_sent_again_on_request_and_the_log_shows_both_attempts(
    db: Database, receiver: Receiver
) -> None:
    build_world(db)
    hook = _subscribe(db, receiver.url, ["stock.moved"])
    db.run(
        lambda c: operations.receive(c, SYSTEM, "WH1", [operations.StockLine("SKU-1", 2, "A-01")])
    )
    worker = _worker(db)
    try:
        worker.run_once()
        with db.read() as conn:
            (delivery,) = subscriptions.list_deliveries(conn, SYSTEM, hook["id"], None, 10)
        assert delivery["state"] == "delivered"
        again = db.run(lambda c: subscriptions.redeliver(c, SYSTEM, hook["id"], delivery["id"]))
        assert again["state"] == "pending"
        worker.run_once()
    finally:
        worker.close()
    with db.read() as conn:
        detail = subscriptions.get_delivery(conn, SYSTEM, hook["id"], delivery["id"])
    assert detail["state"] == "delivered"
    assert [a["attempt"] for a in detail["attempt_log"]] == [1, 2]
    ids = [r.headers["webhook-id"] for r in receiver.snapshot()]
    assert ids == [delivery["event_id"]] * 2


def test_an_unreachable_endpoint_is_a_failed_attempt_in_the_log_not_a_crashed_worker(
    db: Database,
) -> None:
    build_world(db)
    hook = _subscribe(db, "http://127.0.0.1:9/hook", ["stock.moved"])  # nothing listens there
    receive(db, "SKU-1", 1, "A-01")
    worker = _worker(db)
    try:
        report = worker.run_once()
    finally:
        worker.close()
    assert (report.delivered, report.failed) == (0, 1)
    with db.read() as conn:
        (delivery,) = subscriptions.list_deliveries(conn, SYSTEM, hook["id"], None, 10)
        detail = subscriptions.get_delivery(conn, SYSTEM, hook["id"], delivery["id"])
    assert detail["state"] == "pending" and detail["next_attempt_at"] is not None
    (attempt,) = detail["attempt_log"]
    assert attempt["status_code"] is None and "Connect" in attempt["error"]


@pytest.mark.slow
def test_two_workers_at_once_deliver_every_event_once_each_aggregate_in_order(
    db: Database, receiver: Receiver
) -> None:
    build_world(db)
    _subscribe(db, receiver.url, ["test.*"])
    for aggregate in "ABCDE":
        _events(db, aggregate, 40)
    workers = [_worker(db, "w1", batch_size=7), _worker(db, "w2", batch_size=7)]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,)) for w in workers]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(receiver.snapshot()) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    for w in workers:
        w.close()
    by_aggregate: dict[str, list[int]] = {}
    for message in receiver.messages():
        by_aggregate.setdefault(message["aggregate"], []).append(message["data"]["n"])
    # Nothing failed, so nothing was sent twice: every event once, each aggregate in order.
    assert by_aggregate == {f"thing:{a}": list(range(40)) for a in "ABCDE"}
    with db.read() as conn:
        workers_used = set(conn.execute(sa.select(webhook_attempt.c.worker)).scalars())
    assert workers_used == {"w1", "w2"}  # both took part


def test_a_worker_whose_database_is_unreachable_keeps_trying_instead_of_exiting(
    tmp_path: Path,
) -> None:
    gone = Database(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")  # no such directory
    worker = DeliveryWorker(gone, WorkerOptions(poll_interval=0.01))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive()  # still cycling, backing off
    stop.set()
    thread.join(timeout=10)
    worker.close()
    gone.dispose()
    assert not thread.is_alive()
