"""Pack and ship: what was picked leaves the staging bin for the customer location.

``ship_order`` posts every picked, not yet shipped unit of an order from staging to the
customer in one document, writes the shipment and its lines, closes what is still reserved
for the shipped lines (their open pick tasks are cancelled: the rest is a backorder), and
records on-time shipment against the promised date. A ship-complete customer's order leaves
only when every line is picked (409 naming the lines otherwise).

The packing list of a shipment is served as CSV and as a printable HTML page.
"""

from __future__ import annotations

import csv
import html
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.consignment.service import Consumed, record_consumption
from stockpilot.ledger import allocation as alloc
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import virtual_location
from stockpilot.outbound.allocation import refresh_statuses
from stockpilot.persistence import journal
from stockpilot.persistence.tables import (
    allocation,
    customer,
    item,
    lot,
    sales_order,
    sales_order_line,
    site,
)
from stockpilot.persistence.warehouse_tables import shipment, shipment_line, task
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.sql import insert_id
from stockpilot.tasks.service import cancel_tasks


@dataclass(frozen=True)
class ShippedUnits:
    """Units of one order line (one item and lot) that left with a shipment."""

    order_line_id: int
    item_id: int
    lot_id: int
    quantity: int


def record_shipment(
    conn: Connection,
    actor: Actor,
    order: Any,
    units: Sequence[ShippedUnits],
    *,
    cartons: int | None,
    used: Sequence[Consumed] = (),
) -> int:
    """Write the shipment, its lines and the lines' shipped counters (guarded: never more
    shipped than picked); the caller has posted the moves. ``used``: the stock keys shipped
    (owner, item, lot, quantity) — supplier-owned (consigned) units among them are used now
    and recorded for their owner's invoice (consignment.service)."""
    now = utcnow()
    on_time = None if order.promised_date is None else now.date() <= order.promised_date
    shipment_id = insert_id(
        conn,
        shipment.insert().values(
            order_id=order.id,
            site_id=order.site_id,
            shipped_at=now,
            shipped_by=actor.user_id,
            promised_date=order.promised_date,
            on_time=on_time,
            cartons=cartons,
        ),
    )
    conn.execute(
        shipment_line.insert(),
        [
            {
                "shipment_id": shipment_id,
                "order_line_id": u.order_line_id,
                "item_id": u.item_id,
                "lot_id": u.lot_id,
                "quantity": u.quantity,
            }
            for u in units
        ],
    )
    if used:
        record_consumption(
            conn, order.site_id, _site_company(conn, order.site_id), used, "shipment", shipment_id
        )
    per_line: dict[int, int] = defaultdict(int)
    for u in units:
        per_line[u.order_line_id] += u.quantity
    updated = conn.execute(
        sa.update(sales_order_line)
        .where(
            sales_order_line.c.id == sa.bindparam("line_id"),
            sales_order_line.c.quantity_shipped + sa.bindparam("q")
            <= sales_order_line.c.quantity_picked,
        )
        .values(quantity_shipped=sales_order_line.c.quantity_shipped + sa.bindparam("q")),
        [{"line_id": k, "q": v} for k, v in sorted(per_line.items())],
    ).rowcount
    if updated != len(per_line):
        raise Conflict("more would be shipped than was picked", field="lines")
    conn.execute(sa.update(sales_order).where(sales_order.c.id == order.id).values(shipped_at=now))
    return shipment_id


def _lock_order(conn: Connection, actor: Actor, order_id: int) -> Any:
    row = conn.execute(
        sa.select(sales_order).where(sales_order.c.id == order_id).with_for_update()
    ).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"sales order {order_id} not found", field="order_id")
    return row


@dataclass(frozen=True)
class _Staged:
    line_id: int
    item_id: int
    lot_id: int
    status: str
    owner_id: int
    location_id: int
    quantity: int


def _staged(conn: Connection, order_id: int, to_ship: dict[int, int]) -> list[_Staged]:
    """Where each line's picked, unshipped units wait: the latest confirmed picks of the line
    (every shipment ships all that was picked before it, so the latest picks are the ones
    still at staging)."""
    rows = conn.execute(
        sa.select(
            task.c.document_line_id,
            task.c.item_id,
            task.c.lot_id,
            task.c.stock_status,
            task.c.owner_id,
            task.c.to_location_id,
            task.c.confirmed_quantity,
        )
        .where(
            task.c.type == "pick",
            task.c.status == "done",
            task.c.document_type == "sales_order",
            task.c.document_id == order_id,
            task.c.confirmed_quantity > 0,
        )
        .order_by(task.c.id.desc())
    ).all()
    left = dict(to_ship)
    out = []
    for r in rows:
        need = left.get(r.document_line_id, 0)
        if need <= 0:
            continue
        qty = min(need, int(r.confirmed_quantity))
        left[r.document_line_id] = need - qty
        out.append(
            _Staged(
                r.document_line_id,
                r.item_id,
                r.lot_id,
                r.stock_status,
                r.owner_id,
                r.to_location_id,
                qty,
            )
        )
    if any(v > 0 for v in left.values()):
        raise Conflict("picked units cannot be found at staging", field="lines")
    return out


def _refuse_incomplete(conn: Connection, order: Any, lines: Sequence[Any]) -> None:
    ship_complete = conn.execute(
        sa.select(customer.c.ship_complete).where(customer.c.id == order.customer_id)
    ).scalar()
    unpicked = [ln.line_no for ln in lines if ln.quantity_picked < ln.quantity]
    if ship_complete and unpicked:
        names = ", ".join(str(n) for n in unpicked)
        raise Conflict(
            f"the customer takes complete orders only: line(s) {names} not fully picked",
            field="lines",
            lines=unpicked,
        )


def ship_order(conn: Connection, actor: Actor, order_id: int, *, cartons: int | None = None) -> int:
    """Ship what is picked of the order; returns the shipment id."""
    order = _lock_order(conn, actor, order_id)
    if order.status in ("cancelled", "closed"):
        raise Conflict(f"sales order {order_id} is {order.status}", field="status")
    lines = conn.execute(
        sa.select(sales_order_line)
        .where(sales_order_line.c.order_id == order_id)
        .order_by(sales_order_line.c.line_no)
    ).all()
    _refuse_incomplete(conn, order, lines)
    to_ship = {
        ln.id: ln.quantity_picked - ln.quantity_shipped
        for ln in lines
        if ln.quantity_picked > ln.quantity_shipped
    }
    if not to_ship:
        raise Conflict(f"sales order {order_id} has nothing picked to ship", field="order_id")
    staged = _staged(conn, order_id, to_ship)
    customer_loc = virtual_location(conn, order.site_id, "customer")
    shipment_id = record_shipment(
        conn,
        actor,
        order,
        _units(staged),
        cartons=cartons,
        used=[(s.owner_id, s.item_id, s.lot_id, s.quantity) for s in staged],
    )
    post_moves(
        conn,
        [
            MoveLine(
                item_id=s.item_id,
                from_location_id=s.location_id,
                to_location_id=customer_loc,
                quantity=s.quantity,
                owner_id=s.owner_id,
                lot_id=s.lot_id,
                from_status=s.status,
                to_status=s.status,
            )
            for s in staged
        ],
        PostingContext("shipment", shipment_id, actor.user_id, "SHIP"),
    )
    released = _close_shipped_lines(conn, order_id, sorted(to_ship))
    status = refresh_statuses(conn, [order_id])[order_id]
    journal.record(
        conn,
        actor,
        action="sales_order.shipped",
        entity_type="sales_order",
        entity_id=order_id,
        site_id=order.site_id,
        detail={
            "shipment": shipment_id,
            "quantity": sum(to_ship.values()),
            "released": released,
            "status": status,
        },
        topic="sales_order.shipped",
    )
    return shipment_id


def _site_company(conn: Connection, site_id: int) -> int:
    return int(conn.execute(sa.select(site.c.company_id).where(site.c.id == site_id)).scalar_one())


def _units(staged: Sequence[_Staged]) -> list[ShippedUnits]:
    merged: dict[tuple[int, int, int], int] = defaultdict(int)
    for s in staged:
        merged[(s.line_id, s.item_id, s.lot_id)] += s.quantity
    return [ShippedUnits(k[0], k[1], k[2], q) for k, q in sorted(merged.items())]


def _close_shipped_lines(conn: Connection, order_id: int, line_ids: Sequence[int]) -> int:
    """Nothing stays reserved for a shipped line: its open allocations are released and their
    pick tasks cancelled (what the line still lacks is a backorder)."""
    open_ids = list(
        conn.execute(
            sa.select(allocation.c.id).where(
                allocation.c.document_type == "sales_order",
                allocation.c.document_id == order_id,
                allocation.c.document_line_id.in_(list(line_ids)),
                allocation.c.state == "open",
            )
        ).scalars()
    )
    if not open_ids:
        return 0
    tasks = conn.execute(
        sa.select(task.c.id).where(
            task.c.allocation_id.in_(open_ids), task.c.status.in_(("open", "assigned"))
        )
    ).scalars()
    cancel_tasks(conn, sorted(tasks))
    total = 0
    per_line: dict[int, int] = defaultdict(int)
    for state in alloc.load_allocations(conn, open_ids):
        qty = alloc.release(conn, state, None)
        total += qty
        if state.document_line_id is not None:
            per_line[state.document_line_id] += qty
    conn.execute(
        sa.update(sales_order_line)
        .where(sales_order_line.c.id == sa.bindparam("line_id"))
        .values(quantity_allocated=sales_order_line.c.quantity_allocated - sa.bindparam("q")),
        [{"line_id": k, "q": v} for k, v in sorted(per_line.items())],
    )
    return total


# --- reading and the packing list ---------------------------------------------------------------


def get_shipment(conn: Connection, actor: Actor, shipment_id: int) -> dict[str, Any]:
    head = conn.execute(
        sa.select(
            shipment,
            sales_order.c.number.label("order_number"),
            site.c.code.label("site"),
            customer.c.code.label("customer"),
            customer.c.name.label("customer_name"),
        )
        .join(sales_order, sales_order.c.id == shipment.c.order_id)
        .join(site, site.c.id == shipment.c.site_id)
        .join(customer, customer.c.id == sales_order.c.customer_id)
        .where(shipment.c.id == shipment_id)
    ).first()
    if head is None or not actor.can_see_site(head.site_id):
        raise NotFound(f"shipment {shipment_id} not found", field="shipment_id")
    lines = conn.execute(
        sa.select(
            sales_order_line.c.line_no,
            item.c.sku,
            item.c.description,
            item.c.base_uom,
            lot.c.lot_code,
            lot.c.expiry_date,
            shipment_line.c.quantity,
        )
        .join(sales_order_line, sales_order_line.c.id == shipment_line.c.order_line_id)
        .join(item, item.c.id == shipment_line.c.item_id)
        .outerjoin(lot, lot.c.id == shipment_line.c.lot_id)
        .where(shipment_line.c.shipment_id == shipment_id)
        .order_by(sales_order_line.c.line_no, shipment_line.c.id)
    ).all()
    return {
        "id": head.id,
        "sales_order": head.order_id,
        "order_number": head.order_number,
        "site": head.site,
        "customer": head.customer,
        "customer_name": head.customer_name,
        "shipped_at": iso_utc(head.shipped_at),
        "promised_date": head.promised_date.isoformat() if head.promised_date else None,
        "on_time": head.on_time,
        "cartons": head.cartons,
        "lines": [
            {
                "line_no": ln.line_no,
                "sku": ln.sku,
                "description": ln.description,
                "lot": ln.lot_code,
                "expiry_date": ln.expiry_date.isoformat() if ln.expiry_date else None,
                "quantity": ln.quantity,
                "uom": ln.base_uom,
            }
            for ln in lines
        ],
    }


def list_shipments(conn: Connection, actor: Actor, order_id: int) -> list[dict[str, Any]]:
    ids = conn.execute(
        sa.select(shipment.c.id).where(shipment.c.order_id == order_id).order_by(shipment.c.id)
    ).scalars()
    return [get_shipment(conn, actor, int(i)) for i in ids]


PACKING_COLUMNS = ("line_no", "sku", "description", "lot", "expiry_date", "quantity", "uom")


def packing_list_csv(body: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PACKING_COLUMNS)
    for ln in body["lines"]:
        writer.writerow(["" if ln[c] is None else _cell(ln[c]) for c in PACKING_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> str:
    text = str(value)
    # A cell that a spreadsheet would run as a formula is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Packing list {id}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #444; padding: 4px 8px; text-align: left; }}
td.q {{ text-align: right; }}
@media print {{ body {{ margin: 0; }} }}
</style></head>
<body>
<h1>Packing list — shipment {id}</h1>
<p>Site {site} · Order {order} · Customer {customer} ({customer_name})<br>
Shipped {shipped_at} · Promised {promised} · Cartons {cartons}</p>
<table><thead><tr><th>Line</th><th>SKU</th><th>Description</th><th>Lot</th><th>Expiry</th>
<th>Quantity</th><th>Unit</th></tr></thead><tbody>
{rows}
</tbody></table>
</body></html>
"""


def packing_list_html(body: dict[str, Any]) -> str:
    e = html.escape
    rows = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="q">{e(str(ln[c]))}</td>'
            if c == "quantity"
            else f"<td>{e(str(ln[c] or ''))}</td>"
            for c in PACKING_COLUMNS
        )
        + "</tr>"
        for ln in body["lines"]
    )
    return _PAGE.format(
        id=body["id"],
        site=e(body["site"]),
        order=e(str(body["order_number"] or body["sales_order"])),
        customer=e(body["customer"]),
        customer_name=e(body["customer_name"]),
        shipped_at=e(body["shipped_at"] or ""),
        promised=e(body["promised_date"] or "—"),
        cartons=e(str(body["cartons"] or "—")),
        rows=rows,
    )
