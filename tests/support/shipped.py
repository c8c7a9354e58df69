"""Ship stock to a customer the way the warehouse does: order, wave, pick tasks, ship."""

from __future__ import annotations

from stockpilot.outbound import shipping
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM
from stockpilot.tasks import service as tasks
from tests.integration.outbound_world import order, release, tasks_of, wave


def confirm(db: Database, task_id: int, quantity: int | None = None) -> None:
    done = tasks.Confirmation(quantity=quantity)
    db.run(lambda c: tasks.confirm_task(c, SYSTEM, task_id, done))


def ship(db: Database, sku: str, quantity: int, customer: str = "C1", site: str = "WH1") -> int:
    """Ship ``quantity`` of ``sku`` to ``customer``; returns the sales order's id."""
    order_id = order(db, [(sku, quantity)], customer, site=site)
    release(db, wave(db, [order_id], site=site))
    for t in tasks_of(db, "pick", status="open"):
        confirm(db, int(t.id))
    db.run(lambda c: shipping.ship_order(c, SYSTEM, order_id))
    return order_id
