"""The delivery worker: outbox events to subscribers' URLs, signed, at least once, in order
per aggregate, surviving a killed process.

One cycle is three steps, each its own transaction except the HTTP calls:

1. **prepare** (one transaction): fan out the outbox rows not yet published into one delivery
   row per matching subscription and mark them published; then claim up to ``batch_size``
   due deliveries by writing a lease (``lease_owner``, ``lease_until``) on them. A delivery is
   claimable only when no earlier delivery of its subscription and aggregate is still pending
   and unclaimable (leased by another worker, or waiting for its retry), so one aggregate's
   events leave in outbox order. Claims are serialised (BEGIN IMMEDIATE on SQLite, a
   transaction-scoped advisory lock on PostgreSQL), so two workers never split an aggregate.
2. **send**: each (subscription, aggregate) group in outbox order, groups side by side on a
   few threads; a group stops at its first failure (what follows waits for the retry).
3. **record** (one transaction): every attempt into the log, each delivery's new state.

A worker killed anywhere leaves its leases to expire: the deliveries are claimed again and
sent again, in order — so a receiver may see an event twice (drop duplicates by
``webhook-id``), never miss one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import outbox
from stockpilot.persistence.webhook_tables import (
    webhook_attempt,
    webhook_delivery,
    webhook_subscription,
)
from stockpilot.shared.clock import utcnow
from stockpilot.webhooks import rules

logger = logging.getLogger(__name__)

# Any constant shared by every worker: the key of the PostgreSQL advisory lock of a claim.
_CLAIM_LOCK = 7_346_112_009
_ERROR_CHARS = 500


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 200
    lease_seconds: float = 60.0
    poll_interval: float = 0.5
    timeout_seconds: float = 10.0
    concurrency: int = 8
    fan_out_size: int = 1000
    name: str = field(default_factory=default_worker_name)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.concurrency < 1 or self.fan_out_size < 1:
            raise ValueError("batch_size, concurrency and fan_out_size must be at least 1")
        if self.lease_seconds <= self.timeout_seconds:
            raise ValueError("the lease must outlast the HTTP timeout")


@dataclass(frozen=True, slots=True)
class Claimed:
    """One delivery a worker holds a lease on, with what sending it needs."""

    id: int
    subscription_id: int
    outbox_id: int
    aggregate: str
    attempts: int
    retries: int
    url: str
    secret: str
    body: str


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery: Claimed
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and rules.is_success(self.status_code)


@dataclass
class CycleReport:
    fanned_out: int = 0
    claimed: int = 0
    delivered: int = 0
    failed: int = 0


Sender = Callable[[str, str, dict[str, str]], int]
"""(url, body, headers) -> HTTP status; raises on a transport error."""


class DeliveryWorker:
    """Delivers webhook events from one database until stopped."""

    def __init__(
        self,
        db: Database,
        options: WorkerOptions | None = None,
        *,
        client: httpx.Client | None = None,
    ) -> None:
        self.db = db
        self.options = options or WorkerOptions()
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=self.options.timeout_seconds,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=self.options.concurrency * 2),
        )
        self._pool = ThreadPoolExecutor(
            max_workers=self.options.concurrency, thread_name_prefix="webhook"
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._own_client:
            self.client.close()

    # --- the loop --------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Cycle until ``stop`` is set; sleeps ``poll_interval`` when there was nothing to do.
        A cycle under way finishes (and records its attempts) before the loop returns."""
        failures = 0
        while not stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # the database went away: nothing is lost, try again later
                failures += 1
                logger.exception("webhook cycle failed (%d in a row)", failures)
                stop.wait(min(self.options.poll_interval * 2 ** min(failures, 10), 30.0))
                continue
            failures = 0
            if report.claimed == 0 and report.fanned_out == 0:
                stop.wait(self.options.poll_interval)

    def run_once(self) -> CycleReport:
        report = CycleReport()
        with self.db.read() as conn:
            # An idle worker only reads: on SQLite a write transaction would take the file's
            # write lock twice a second for nothing.
            if not has_work(conn, utcnow()):
                return report
        claimed = self.db.run(lambda conn: self._prepare(conn, report))
        if not claimed:
            return report
        attempts, skipped = self._send(claimed)
        self.db.run(lambda conn: self._record(conn, attempts, skipped))
        report.delivered = sum(a.ok for a in attempts)
        report.failed = len(attempts) - report.delivered
        return report

    # --- 1. prepare ------------------------------------------------------------------------

    def _prepare(self, conn: Connection, report: CycleReport) -> list[Claimed]:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_CLAIM_LOCK)))
        now = utcnow()
        report.fanned_out = fan_out(conn, now, self.options.fan_out_size)
        claimed = claim(
            conn,
            now,
            self.options.batch_size,
            self.options.name,
            now + timedelta(seconds=self.options.lease_seconds),
        )
        report.claimed = len(claimed)
        return claimed

    # --- 2. send ---------------------------------------------------------------------------

    def _send(self, claimed: Sequence[Claimed]) -> tuple[list[Attempt], list[Claimed]]:
        groups: dict[tuple[int, str], list[Claimed]] = {}
        for d in claimed:  # already in outbox order
            groups.setdefault((d.subscription_id, d.aggregate), []).append(d)
        deadline = time.monotonic() + self.options.lease_seconds / 2
        results = list(self._pool.map(lambda g: self._send_group(g, deadline), groups.values()))
        attempts = [a for done, _ in results for a in done]
        skipped = [d for _, rest in results for d in rest]
        return attempts, skipped

    def _send_group(
        self, group: Sequence[Claimed], deadline: float
    ) -> tuple[list[Attempt], list[Claimed]]:
        """One aggregate's deliveries in order; the first failure (or the lease's half-life)
        leaves the rest for a later cycle."""
        done: list[Attempt] = []
        for index, delivery in enumerate(group):
            if time.monotonic() > deadline:
                return done, list(group[index:])
            attempt = self._attempt(delivery)
            done.append(attempt)
            if not attempt.ok:
                return done, list(group[index + 1 :])
        return done, []

    def _attempt(self, d: Claimed) -> Attempt:
        at = utcnow()
        headers = rules.signed_headers(d.secret, rules.message_id(d.outbox_id), d.body, at)
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = self.client.post(d.url, content=d.body.encode(), headers=headers)
            status = response.status_code
            if not rules.is_success(status):
                error = f"HTTP {status}: {response.text[:200]}"
        except Exception as exc:  # any failure to send is a failed attempt, never a crash
            error = f"{type(exc).__name__}: {exc}"
        duration = int((time.perf_counter() - started) * 1000)
        return Attempt(d, at, status, None if error is None else error[:_ERROR_CHARS], duration)

    # --- 3. record -------------------------------------------------------------------------

    def _record(
        self, conn: Connection, attempts: Sequence[Attempt], skipped: Sequence[Claimed]
    ) -> None:
        now = utcnow()
        if attempts:
            conn.execute(
                webhook_attempt.insert(),
                [
                    {
                        "delivery_id": a.delivery.id,
                        "attempt": a.delivery.attempts + 1,
                        "at": a.at,
                        "status_code": a.status_code,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                        "worker": self.options.name,
                    }
                    for a in attempts
                ],
            )
            rows = []
            for a in attempts:
                outcome = rules.after_attempt(a.ok, a.delivery.retries, now)
                rows.append(
                    {
                        "d_id": a.delivery.id,
                        "d_state": outcome.state,
                        "d_retries": 0 if a.ok else a.delivery.retries + 1,
                        "d_next": outcome.next_attempt_at or now,
                        "d_code": a.status_code,
                        "d_error": a.error,
                        "d_delivered": a.at if a.ok else None,
                    }
                )
            conn.execute(_RECORD, rows)
        if skipped:
            conn.execute(
                sa.update(webhook_delivery)
                .where(
                    webhook_delivery.c.id.in_([d.id for d in skipped]),
                    webhook_delivery.c.lease_owner == self.options.name,
                )
                .values(lease_owner=None, lease_until=None)
            )


_RECORD = (
    sa.update(webhook_delivery)
    .where(webhook_delivery.c.id == sa.bindparam("d_id"))
    .values(
        state=sa.bindparam("d_state"),
        attempts=webhook_delivery.c.attempts + 1,
        retries=sa.bindparam("d_retries"),
        next_attempt_at=sa.bindparam("d_next"),
        lease_owner=None,
        lease_until=None,
        last_status_code=sa.bindparam("d_code"),
        last_error=sa.bindparam("d_error"),
        delivered_at=sa.func.coalesce(sa.bindparam("d_delivered"), webhook_delivery.c.delivered_at),
    )
)


def has_work(conn: Connection, now: datetime) -> bool:
    """Whether an event waits for fan-out or a delivery is due (two indexed probes)."""
    unpublished = conn.execute(
        sa.select(outbox.c.id).where(outbox.c.published_at.is_(None)).limit(1)
    ).first()
    if unpublished is not None:
        return True
    due = conn.execute(
        sa.select(webhook_delivery.c.id)
        .where(
            webhook_delivery.c.state == "pending",
            webhook_delivery.c.next_attempt_at <= now,
            sa.or_(webhook_delivery.c.lease_until.is_(None), webhook_delivery.c.lease_until < now),
        )
        .limit(1)
    ).first()
    return due is not None


def fan_out(conn: Connection, now: datetime, limit: int) -> int:
    """One delivery row per (unpublished outbox event, matching subscription); the events are
    marked published. Returns how many events were fanned out."""
    rows = conn.execute(
        sa.select(
            outbox.c.id,
            outbox.c.topic,
            outbox.c.aggregate_type,
            outbox.c.aggregate_id,
            outbox.c.site_id,
        )
        .where(outbox.c.published_at.is_(None))
        .order_by(outbox.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    subscribers = [
        rules.Subscriber(int(s.id), tuple(s.topics), s.site_id, int(s.from_outbox_id))
        for s in conn.execute(
            sa.select(
                webhook_subscription.c.id,
                webhook_subscription.c.topics,
                webhook_subscription.c.site_id,
                webhook_subscription.c.from_outbox_id,
            ).where(webhook_subscription.c.active.is_(True))
        )
    ]
    deliveries: list[dict[str, Any]] = []
    for row in rows:
        event = rules.Event(
            int(row.id),
            row.topic,
            rules.aggregate_key(row.aggregate_type, row.aggregate_id),
            row.site_id,
        )
        for subscription_id in rules.recipients(event, subscribers):
            deliveries.append(
                {
                    "subscription_id": subscription_id,
                    "outbox_id": event.id,
                    "topic": event.topic,
                    "aggregate": event.aggregate[:130],
                    "state": "pending",
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if deliveries:
        conn.execute(webhook_delivery.insert(), deliveries)
    conn.execute(
        sa.update(outbox).where(outbox.c.id.in_([r.id for r in rows])).values(published_at=now)
    )
    return len(rows)


def claim(
    conn: Connection, now: datetime, limit: int, owner: str, lease_until: datetime
) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries, in outbox order, none ahead of an earlier delivery
    of its aggregate that cannot be sent now. The caller serialises claims."""
    d = webhook_delivery.alias("d")
    e = webhook_delivery.alias("e")
    s = webhook_subscription
    claimable = sa.and_(
        d.c.state == "pending",
        d.c.next_attempt_at <= now,
        sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now),
    )
    # Per aggregate, the first pending delivery that cannot go now (another worker holds it, or
    # it waits for its retry): nothing of that aggregate after it may be claimed. One pass over
    # the pending rows, however long the backlog of an aggregate (a per-row NOT EXISTS would
    # rescan each aggregate's earlier rows for every row).
    blocked = (
        sa.select(
            e.c.subscription_id,
            e.c.aggregate,
            sa.func.min(e.c.outbox_id).label("first_blocked"),
        )
        .where(
            e.c.state == "pending",
            sa.or_(e.c.next_attempt_at > now, e.c.lease_until >= now),
        )
        .group_by(e.c.subscription_id, e.c.aggregate)
        .cte("blocked")
    )
    rows = conn.execute(
        sa.select(
            d.c.id,
            d.c.subscription_id,
            d.c.outbox_id,
            d.c.aggregate,
            d.c.attempts,
            d.c.retries,
            s.c.url,
            s.c.secret,
            outbox.c.topic,
            outbox.c.created_at,
            outbox.c.site_id,
            outbox.c.payload,
        )
        .join(s, s.c.id == d.c.subscription_id)
        .join(outbox, outbox.c.id == d.c.outbox_id)
        .outerjoin(
            blocked,
            sa.and_(
                blocked.c.subscription_id == d.c.subscription_id,
                blocked.c.aggregate == d.c.aggregate,
            ),
        )
        .where(
            claimable,
            s.c.active.is_(True),
            sa.or_(blocked.c.first_blocked.is_(None), d.c.outbox_id < blocked.c.first_blocked),
        )
        .order_by(d.c.outbox_id, d.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    conn.execute(
        sa.update(webhook_delivery)
        .where(webhook_delivery.c.id.in_([r.id for r in rows]))
        .values(lease_owner=owner, lease_until=lease_until)
    )
    return [
        Claimed(
            id=int(r.id),
            subscription_id=int(r.subscription_id),
            outbox_id=int(r.outbox_id),
            aggregate=r.aggregate,
            attempts=int(r.attempts),
            retries=int(r.retries),
            url=r.url,
            secret=r.secret,
            body=rules.message_body(
                int(r.outbox_id), r.topic, r.created_at, r.aggregate, r.site_id, r.payload
            ),
        )
        for r in rows
    ]
