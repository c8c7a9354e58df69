"""Transfer orders: one document per route (from a hub to a branch), drafted from accepted
planning proposals or entered by hand (transfers.service). Shipping into in-transit and
receiving at the destination: transfers.service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Connection

from stockpilot.persistence import journal
from stockpilot.persistence.warehouse_tables import transfer_order, transfer_order_line
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.sql import insert_id

OPEN_STATES = ("draft", "confirmed", "partially_shipped", "shipped", "partially_received")
"""Transfer orders whose open quantity is on its way to the destination (planning's on-order)."""


@dataclass(frozen=True)
class TransferLine:
    item_id: int
    quantity: int
    due_date: date | None = None
    proposal_id: int | None = None
    transfer_price: Decimal | None = None


def create_transfer_order(
    conn: Connection,
    actor: Actor,
    from_site_id: int,
    to_site_id: int,
    lines: Sequence[TransferLine],
    *,
    status: str = "draft",
    priority: int | None = None,
) -> int:
    """Insert the order and its lines (two statements) and audit it; returns its id."""
    order_id = insert_id(
        conn,
        transfer_order.insert().values(
            from_site_id=from_site_id,
            to_site_id=to_site_id,
            status=status,
            priority=priority,
            created_at=utcnow(),
            created_by=actor.user_id,
        ),
    )
    if lines:
        conn.execute(
            transfer_order_line.insert(),
            [
                {
                    "order_id": order_id,
                    "line_no": i + 1,
                    "item_id": ln.item_id,
                    "quantity": ln.quantity,
                    "due_date": ln.due_date,
                    "proposal_id": ln.proposal_id,
                    "transfer_price": ln.transfer_price,
                }
                for i, ln in enumerate(lines)
            ],
        )
    journal.record(
        conn,
        actor,
        action="transfer_order.created",
        entity_type="transfer_order",
        entity_id=order_id,
        site_id=to_site_id,
        detail={"status": status, "lines": len(lines), "from_site_id": from_site_id},
        topic="transfer_order.created",
    )
    return order_id
