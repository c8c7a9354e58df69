"""Webhook delivery to a local receiver: events per second the worker delivers, signed, from
the outbox through its whole cycle (fan-out, claim with leases, send, record).

Subject: ``webhooks.delivery.DeliveryWorker.run_once`` in a loop until every event of the
outbox is delivered (20 aggregates, so the worker's threads overlap).
Baseline, in the same run: the same number of plain HTTP POSTs of the same bodies to the same
receiver from one thread on one kept-alive connection, unsigned, with no database. Target:
≥ 500 events/s with signing.

    python -m benchmarks.bench_webhooks [--backend sqlite|postgresql] [--events 2000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import httpx
from sqlalchemy.engine import Connection

from benchmarks.common import backends, fresh_database
from stockpilot.persistence import journal
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM
from stockpilot.webhooks import subscriptions
from stockpilot.webhooks.delivery import DeliveryWorker, WorkerOptions
from stockpilot.webhooks.schemas import WebhookCreate
from tests.support.receiver import Receiver

TARGET_EVENTS_PER_S = 500.0
AGGREGATES = 20


def _publish(db: Database, events: int) -> None:
    def work(conn: Connection) -> None:
        for n in range(events):
            journal.publish(
                conn,
                topic="stock.moved",
                aggregate_type="site",
                aggregate_id=n % AGGREGATES,
                site_id=None,
                payload={"n": n, "moves": [{"item_id": n, "quantity": 1 + n % 9}]},
            )

    db.run(work)


def _baseline(url: str, events: int) -> float:
    body = json.dumps({"type": "stock.moved", "data": {"moves": [{"quantity": 1}]}}).encode()
    with httpx.Client() as client:
        started = time.perf_counter()
        for _ in range(events):
            client.post(url, content=body, headers={"content-type": "application/json"})
        return events / (time.perf_counter() - started)


def measure(backend: str, events: int) -> dict[str, Any]:
    with Receiver.running() as receiver, fresh_database(backend, "webhooks") as db:
        cmd = WebhookCreate(url=receiver.url, topics=["stock.moved"])
        db.run(lambda c: subscriptions.create_subscription(c, SYSTEM, cmd))
        _publish(db, events)
        baseline = _baseline(receiver.url, events)
        receiver.received.clear()
        worker = DeliveryWorker(db, WorkerOptions(batch_size=500, concurrency=8))
        try:
            started = time.perf_counter()
            delivered = 0
            while delivered < events:
                report = worker.run_once()
                delivered += report.delivered
                if report.claimed == 0 and report.fanned_out == 0:
                    break
            elapsed = time.perf_counter() - started
        finally:
            worker.close()
        assert delivered == events == len(receiver.received), (delivered, events)
        rate = events / elapsed
        return {
            "events": events,
            "delivered_per_s": round(rate, 1),
            "baseline_plain_posts_per_s": round(baseline, 1),
            "ratio": round(rate / baseline, 2),
            "target_per_s": TARGET_EVENTS_PER_S,
            "met": rate >= TARGET_EVENTS_PER_S,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    events = min(args.events, 1000) if args.quick else args.events
    chosen = [args.backend] if args.backend else backends()
    results = {b: measure(b, events) for b in chosen}
    json.dump({"benchmark": "webhooks", "results": results}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
