"""Cross-dock: goods just received at the dock go straight to staging for the orders waiting
for them, skipping putaway, when the item or the customer allows it.

When a receipt leaves lines at the dock, the backordered sales-order lines of those items at
the site whose item or customer has ``cross_dock`` set are allocated — in the usual rank
(outbound.allocation_rules) — from what this receipt brought (never from other receipts' goods
waiting at the same dock). Each allocation gets a pick task from the dock to the site's staging
bin, ranked above ordinary picks; the pick handler posts it like any other pick, so the order
ships as usual. What is not cross-docked is put away as always.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.network.service import SiteRef
from stockpilot.outbound import allocation as allocation_service
from stockpilot.outbound.locations import staging_location
from stockpilot.persistence.tables import (
    allocation,
    balance,
    customer,
    item,
    sales_order,
    sales_order_line,
)
from stockpilot.persistence.warehouse_tables import task
from stockpilot.tasks import service as tasks

__all__ = ["CROSS_DOCK_BOOST", "cross_dock"]

CROSS_DOCK_BOOST = 30.0
"""Priority added to a cross-dock pick: the goods block the dock and an order waits for them."""

DockLine = tuple[int, int, dict[str, Any]]  # (receipt line id, owner id, putaway source row)


def cross_dock(
    conn: Connection, st: SiteRef, dock_id: int, dock_lines: Sequence[DockLine]
) -> list[DockLine]:
    """Cross-dock what waiting orders take of ``dock_lines``; returns the lines (and the
    quantities) left for putaway."""
    received: dict[tuple[int, int], int] = defaultdict(int)
    for _, _, row in dock_lines:
        received[(row["item_id"], row["lot_id"] or 0)] += row["quantity"]
    waiting = _waiting_lines(conn, st.id, {item_id for item_id, _ in received})
    if not waiting:
        return list(dock_lines)
    run = allocation_service.allocate_orders(
        conn,
        st.id,
        sorted({order_id for _, order_id in waiting}),
        only_lines={line_id for line_id, _ in waiting},
        cross_dock=allocation_service.CrossDockStock(dock_id, dict(received)),
    )
    if not run.grants:
        return list(dock_lines)
    _pick_tasks(conn, st, dock_id, sorted({g.line_id for g in run.grants}))
    taken: dict[tuple[int, int], int] = defaultdict(int)
    for g in run.grants:
        taken[(g.item_id, g.lot_id or 0)] += g.quantity
    left: list[DockLine] = []
    for line_id, owner_id, row in dock_lines:
        key = (row["item_id"], row["lot_id"] or 0)
        used = min(taken[key], row["quantity"])
        taken[key] -= used
        if row["quantity"] > used:
            left.append((line_id, owner_id, {**row, "quantity": row["quantity"] - used}))
    return left


def _waiting_lines(conn: Connection, site_id: int, item_ids: set[int]) -> list[tuple[int, int]]:
    """(line id, order id) of backordered lines of these items that may be cross-docked."""
    outstanding = (
        sales_order_line.c.quantity
        - sales_order_line.c.quantity_allocated
        - sales_order_line.c.quantity_picked
    )
    rows = conn.execute(
        sa.select(sales_order_line.c.id, sales_order_line.c.order_id)
        .join(sales_order, sales_order.c.id == sales_order_line.c.order_id)
        .join(customer, customer.c.id == sales_order.c.customer_id)
        .join(item, item.c.id == sales_order_line.c.item_id)
        .where(
            sales_order.c.site_id == site_id,
            sales_order.c.status.not_in(allocation_service.CLOSED_STATES),
            sales_order_line.c.item_id.in_(sorted(item_ids)),
            sales_order_line.c.short_cause.is_not(None),
            outstanding > 0,
            sa.or_(item.c.cross_dock.is_(True), customer.c.cross_dock.is_(True)),
        )
    ).all()
    return [(int(r.id), int(r.order_id)) for r in rows]


def _pick_tasks(conn: Connection, st: SiteRef, dock_id: int, line_ids: Sequence[int]) -> None:
    staging = staging_location(conn, st.id)
    rows = conn.execute(
        sa.select(
            allocation.c.id,
            allocation.c.item_id,
            allocation.c.lot_id,
            allocation.c.quantity,
            allocation.c.document_id,
            allocation.c.document_line_id,
            balance.c.status,
            balance.c.owner_id,
            customer.c.priority,
        )
        .join(balance, balance.c.id == allocation.c.balance_id)
        .join(sales_order, sales_order.c.id == allocation.c.document_id)
        .join(customer, customer.c.id == sales_order.c.customer_id)
        .where(
            allocation.c.document_type == "sales_order",
            allocation.c.document_line_id.in_(line_ids),
            allocation.c.location_id == dock_id,
            allocation.c.state == "open",
            ~sa.exists().where(
                task.c.allocation_id == allocation.c.id, task.c.status != "cancelled"
            ),
        )
        .order_by(allocation.c.id)
    ).all()
    tasks.create_tasks(
        conn,
        [
            tasks.NewTask(
                type="pick",
                site_id=st.id,
                item_id=r.item_id,
                quantity=int(r.quantity),
                from_location_id=dock_id,
                to_location_id=staging,
                owner_id=r.owner_id,
                lot_id=r.lot_id,
                stock_status=r.status,
                document_type="sales_order",
                document_id=r.document_id,
                document_line_id=r.document_line_id,
                allocation_id=r.id,
                customer_priority=max(1, min(5, int(r.priority or 3))),
                priority_boost=CROSS_DOCK_BOOST,
                boost_reason="cross-dock: received goods wait at the dock for this order",
            )
            for r in rows
        ],
        return_ids=False,
    )
