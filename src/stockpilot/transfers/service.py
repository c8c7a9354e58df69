"""Transfer execution: a transfer order competes for stock at its origin, ships into the
route's in-transit location, and is received at its destination through the inbound
receiving path (putaway tasks follow); what does not arrive as shipped is a discrepancy that a
supervisor resolves.

States: ``draft`` (drafted by planning) → ``confirmed`` → ``partially_shipped`` / ``shipped`` →
``partially_received`` → ``received``; ``cancelled`` from draft or confirmed. Every transition
is one transaction with its moves, counters and audit row.

In-transit stock is counted once, as the destination's inbound, with its origin named
(ledger.positions). The route's in-transit location is shared by the orders of the route, so
the quantity a line may still receive is its own counter (shipped − received − written off),
and the lots taken out of transit are the route's, earliest expiry first, unless the receipt
names one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import require_reason_code
from stockpilot.inbound.receipt_lines import InboundLine, ResolvedLine, find_items, resolve_lines
from stockpilot.inbound.receiving import ReceiptHeader, post_receipt
from stockpilot.ledger import allocation as alloc
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import (
    SiteRef,
    in_transit_location,
    site_in_scope,
    virtual_location,
)
from stockpilot.outbound import allocation as allocation_service
from stockpilot.persistence import journal
from stockpilot.persistence.flow_tables import transfer_discrepancy
from stockpilot.persistence.tables import (
    allocation,
    balance,
    company,
    item,
    lot,
    site,
)
from stockpilot.persistence.valuation_tables import valuation_entry
from stockpilot.persistence.warehouse_tables import receipt, transfer_order, transfer_order_line
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.quantities import to_base_units
from stockpilot.transfers.schemas import DiscrepancyResolve, TransferOrderCreate, TransferReceive
from stockpilot.transfers.transfer_orders import TransferLine, create_transfer_order
from stockpilot.valuation.money import cost_value, render

__all__ = [
    "allocate_transfer",
    "cancel_transfer",
    "confirm_transfer",
    "create",
    "get_transfer",
    "list_transfers",
    "receive_transfer",
    "resolve_discrepancy",
    "ship_transfer",
]

SHIPPABLE = ("confirmed", "partially_shipped")
RECEIVABLE = ("partially_shipped", "shipped", "partially_received")
_ONE_FRACTION = Fraction(1)  # transfer quantities are in base units


@dataclass(frozen=True)
class _Head:
    id: int
    status: str
    from_site: SiteRef
    to_site: SiteRef
    version: int


def _sites(conn: Connection, *ids: int) -> dict[int, SiteRef]:
    rows = conn.execute(
        sa.select(site.c.id, site.c.code, site.c.company_id).where(site.c.id.in_(ids))
    ).all()
    return {r.id: SiteRef(r.id, r.code, r.company_id) for r in rows}


def _head(conn: Connection, actor: Actor, order_id: int, *, lock: bool = False) -> _Head:
    stmt = sa.select(transfer_order).where(transfer_order.c.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None or not (
        actor.can_see_site(row.from_site_id) or actor.can_see_site(row.to_site_id)
    ):
        raise NotFound(f"transfer order {order_id} not found", field="order_id")
    sites = _sites(conn, row.from_site_id, row.to_site_id)
    return _Head(row.id, row.status, sites[row.from_site_id], sites[row.to_site_id], row.version)


def _at(actor: Actor, st: SiteRef, what: str) -> None:
    """The user must work at the site of this step (the origin ships, the destination
    receives); a site out of their scope reads as unknown, as everywhere."""
    if not actor.can_see_site(st.id):
        raise ValidationFailed(f"unknown site {st.code!r}", field=what)


# --- create --------------------------------------------------------------------------------------


def create(conn: Connection, actor: Actor, cmd: TransferOrderCreate) -> int:
    """A confirmed transfer order by hand (planning drafts its own from accepted proposals)."""
    origin = site_in_scope(conn, actor, cmd.from_site, field="from_site")
    destination = site_in_scope(conn, actor, cmd.to_site, field="to_site")
    if origin.id == destination.id:
        raise ValidationFailed("a transfer goes to another site", field="to_site")
    items = find_items(conn, {ln.sku for ln in cmd.lines})
    lines = []
    intercompany = origin.company_id != destination.company_id
    for i, ln in enumerate(cmd.lines):
        itm = items.get(ln.sku)
        if itm is None:
            raise ValidationFailed(f"unknown sku {ln.sku!r}", field=f"lines[{i}].sku")
        if itm.serial_tracked:
            raise ValidationFailed(
                f"{ln.sku} is serial-tracked: serial numbers are not transferred between sites"
                " yet; move it by a shipment and a receipt",
                field=f"lines[{i}].sku",
            )
        if intercompany and ln.transfer_price is None:
            raise ValidationFailed(
                "an intercompany transfer needs the price the receiving company pays",
                field=f"lines[{i}].transfer_price",
            )
        quantity = to_base_units(ln.quantity, _ONE_FRACTION, field=f"lines[{i}].quantity")
        lines.append(TransferLine(itm.id, quantity, ln.due_date, transfer_price=ln.transfer_price))
    return create_transfer_order(
        conn, actor, origin.id, destination.id, lines, status="confirmed", priority=cmd.priority
    )


# --- allocate and ship ----------------------------------------------------------------------------


def allocate_transfer(conn: Connection, actor: Actor, order_id: int) -> dict[str, Any]:
    """Reserve stock at the origin for the open lines, ranked with the origin's sales orders
    (a short line records its cause and is allocated again when stock arrives)."""
    head = _head(conn, actor, order_id, lock=True)
    _at(actor, head.from_site, "from_site")
    if head.status not in SHIPPABLE:
        raise Conflict(f"transfer order {order_id} is {head.status}", field="order_id")
    run = allocation_service.allocate_orders(
        conn, head.from_site.id, [], transfer_ids=[order_id], locked=True
    )
    journal.record(
        conn,
        actor,
        action="transfer_order.allocated",
        entity_type="transfer_order",
        entity_id=order_id,
        site_id=head.from_site.id,
        detail={"allocated_now": run.quantity_allocated},
        topic="transfer_order.allocated",
    )
    return get_transfer(conn, actor, order_id)


def ship_transfer(conn: Connection, actor: Actor, order_id: int) -> dict[str, Any]:
    """Ship what the origin holds for the order into in-transit: the open lines are allocated
    first (ranked with the origin's other demand), then every open allocation of the order is
    posted from its bin to the route's in-transit location in one document. What could not be
    allocated stays open on the order (``partially_shipped``) and is allocated again when stock
    arrives. Nothing to ship is a 409 and changes nothing."""
    head = _head(conn, actor, order_id, lock=True)
    _at(actor, head.from_site, "from_site")
    if head.status not in SHIPPABLE:
        raise Conflict(f"transfer order {order_id} is {head.status}", field="order_id")
    allocation_service.allocate_orders(
        conn, head.from_site.id, [], transfer_ids=[order_id], locked=True
    )
    open_ids = _open_allocations(conn, order_id)
    states = alloc.load_allocations(conn, open_ids) if open_ids else []
    if not states:
        raise Conflict(
            f"nothing of transfer order {order_id} is available at {head.from_site.code}",
            field="lines",
        )
    transit = in_transit_location(conn, head.from_site.id, head.to_site.id)
    alloc.post_many(
        conn,
        [(s, s.quantity_open, transit) for s in states],
        PostingContext("transfer_order", order_id, actor.user_id, "TRANSFER"),
    )
    shipped: dict[int, int] = defaultdict(int)
    for s in states:
        shipped[int(s.document_line_id or 0)] += s.quantity_open
    conn.execute(
        sa.update(transfer_order_line)
        .where(transfer_order_line.c.id == sa.bindparam("line"))
        .values(
            quantity_shipped=transfer_order_line.c.quantity_shipped + sa.bindparam("q"),
            quantity_allocated=transfer_order_line.c.quantity_allocated - sa.bindparam("q"),
        ),
        [{"line": line, "q": q} for line, q in sorted(shipped.items())],
    )
    whole = _all_lines(conn, order_id, "quantity_shipped")
    status = "shipped" if whole else "partially_shipped"
    _set_status(conn, order_id, status, shipped_at=utcnow())
    journal.record(
        conn,
        actor,
        action="transfer_order.shipped",
        entity_type="transfer_order",
        entity_id=order_id,
        site_id=head.from_site.id,
        detail={"quantity": sum(shipped.values()), "lines": len(shipped), "status": status},
        topic="transfer_order.shipped",
    )
    return get_transfer(conn, actor, order_id)


def _open_allocations(conn: Connection, order_id: int) -> list[int]:
    """Ids of the order's reservations still open at the origin."""
    return list(
        conn.execute(
            sa.select(allocation.c.id).where(
                allocation.c.document_type == "transfer_order",
                allocation.c.document_id == order_id,
                allocation.c.state == "open",
            )
        ).scalars()
    )


def _all_lines(conn: Connection, order_id: int, counter: str) -> bool:
    """Whether every line's ``counter`` reached its quantity."""
    column = transfer_order_line.c[counter]
    short = conn.execute(
        sa.select(sa.func.count())
        .select_from(transfer_order_line)
        .where(transfer_order_line.c.order_id == order_id, column < transfer_order_line.c.quantity)
    ).scalar_one()
    return int(short) == 0


def _set_status(conn: Connection, order_id: int, status: str, **stamps: object) -> None:
    conn.execute(
        sa.update(transfer_order)
        .where(transfer_order.c.id == order_id)
        .values(status=status, version=transfer_order.c.version + 1, **stamps)
    )


def _recorded(conn: Connection, actor: Actor, head: _Head, step: str) -> dict[str, Any]:
    """Audit a step of the order at its origin (and publish it); answer the order."""
    journal.record(
        conn,
        actor,
        action=f"transfer_order.{step}",
        entity_type="transfer_order",
        entity_id=head.id,
        site_id=head.from_site.id,
        topic=f"transfer_order.{step}",
    )
    return get_transfer(conn, actor, head.id)


def confirm_transfer(conn: Connection, actor: Actor, order_id: int) -> dict[str, Any]:
    """Draft (drafted by planning from an accepted proposal) → confirmed: shippable."""
    head = _head(conn, actor, order_id, lock=True)
    _at(actor, head.from_site, "from_site")
    if head.status != "draft":
        raise Conflict(f"transfer order {order_id} is {head.status}", field="order_id")
    _set_status(conn, order_id, "confirmed")
    return _recorded(conn, actor, head, "confirmed")


def cancel_transfer(conn: Connection, actor: Actor, order_id: int) -> dict[str, Any]:
    """Cancel an order that has shipped nothing: its allocations are released."""
    head = _head(conn, actor, order_id, lock=True)
    _at(actor, head.from_site, "from_site")
    if head.status not in ("draft", "confirmed"):
        raise Conflict(f"transfer order {order_id} is {head.status}", field="order_id")
    open_ids = _open_allocations(conn, order_id)
    for state in alloc.load_allocations(conn, open_ids) if open_ids else []:
        alloc.release(conn, state)
    conn.execute(
        sa.update(transfer_order_line)
        .where(transfer_order_line.c.order_id == order_id)
        .values(quantity_allocated=0)
    )
    _set_status(conn, order_id, "cancelled", closed_at=utcnow())
    return _recorded(conn, actor, head, "cancelled")


# --- receive ------------------------------------------------------------------------------------


@dataclass
class _OpenLine:
    id: int
    line_no: int
    item_id: int
    sku: str
    open: int  # still in transit for this line: shipped − received − written off
    transfer_price: Any


@dataclass(frozen=True)
class _TransitStock:
    lot_id: int
    lot_code: str | None
    expiry: Any
    status: str
    owner_id: int
    owner: str
    quantity: int


def _written_off() -> sa.ScalarSelect[Any]:
    """Per transfer line (correlated): the short quantity a supervisor wrote off."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(transfer_discrepancy.c.quantity), 0))
        .where(
            transfer_discrepancy.c.line_id == transfer_order_line.c.id,
            transfer_discrepancy.c.kind == "short",
            transfer_discrepancy.c.resolution == "write_off",
        )
        .scalar_subquery()
    )


def _open_lines(conn: Connection, order_id: int) -> list[_OpenLine]:
    written = _written_off()
    rows = conn.execute(
        sa.select(
            transfer_order_line.c.id,
            transfer_order_line.c.line_no,
            transfer_order_line.c.item_id,
            item.c.sku,
            transfer_order_line.c.quantity_shipped,
            transfer_order_line.c.quantity_received,
            written.label("written_off"),
            transfer_order_line.c.transfer_price,
        )
        .join(item, item.c.id == transfer_order_line.c.item_id)
        .where(transfer_order_line.c.order_id == order_id)
        .order_by(transfer_order_line.c.line_no)
    ).all()
    return [
        _OpenLine(
            r.id,
            r.line_no,
            r.item_id,
            r.sku,
            int(r.quantity_shipped) - int(r.quantity_received) - int(r.written_off),
            r.transfer_price,
        )
        for r in rows
    ]


def _transit_stock(
    conn: Connection, transit: int, item_ids: set[int]
) -> dict[int, list[_TransitStock]]:
    """What the route's in-transit location holds per item, earliest expiry first."""
    rows = conn.execute(
        sa.select(
            balance.c.item_id,
            balance.c.lot_id,
            lot.c.lot_code,
            lot.c.expiry_date,
            balance.c.status,
            balance.c.owner_id,
            company.c.code,
            balance.c.quantity_on_hand,
        )
        .join(company, company.c.id == balance.c.owner_id)
        .outerjoin(lot, lot.c.id == balance.c.lot_id)
        .where(
            balance.c.location_id == transit,
            balance.c.item_id.in_(sorted(item_ids)),
            balance.c.quantity_on_hand > 0,
        )
        .order_by(balance.c.item_id, lot.c.expiry_date, balance.c.lot_id, balance.c.id)
        .with_for_update(of=balance)
    ).all()
    out: dict[int, list[_TransitStock]] = defaultdict(list)
    for r in rows:
        out[r.item_id].append(
            _TransitStock(
                int(r.lot_id), r.lot_code, r.expiry_date, r.status, r.owner_id, r[6],
                int(r.quantity_on_hand),
            )
        )  # fmt: skip
    return out


def _take(
    stock: list[_TransitStock], quantity: int, lot_code: str | None, field: str
) -> list[tuple[_TransitStock, int]]:
    """``quantity`` out of the item's in-transit stock (the named lot, else earliest expiry),
    taken off ``stock`` in place."""
    takes: list[tuple[_TransitStock, int]] = []
    left = quantity
    for i, s in enumerate(stock):
        if left == 0:
            break
        if lot_code is not None and s.lot_code != lot_code:
            continue
        q = min(left, s.quantity)
        if q:
            takes.append((s, q))
            stock[i] = replace(s, quantity=s.quantity - q)
            left -= q
    if left:
        what = f"lot {lot_code!r}" if lot_code is not None else "it"
        raise ValidationFailed(
            f"only {quantity - left:,} of {what} is in transit on this route", field=field
        )
    return takes


def receive_transfer(
    conn: Connection, actor: Actor, order_id: int, cmd: TransferReceive, *, max_lines: int
) -> dict[str, Any]:
    """Receive what arrived at the destination: out of in-transit into the dock (putaway
    tasks follow) or a named bin, in the status received (damaged goods are recorded as a
    discrepancy); more than is open is received as found stock and recorded ``over``;
    ``close`` records what is still in transit as ``short``. One receipt document through the
    inbound receiving path."""
    head = _head(conn, actor, order_id, lock=True)
    _at(actor, head.to_site, "to_site")
    if head.status not in RECEIVABLE:
        raise Conflict(f"transfer order {order_id} is {head.status}", field="order_id")
    if len(cmd.lines) > max_lines:
        raise ValidationFailed(f"at most {max_lines} lines per document", field="lines")
    lines = _open_lines(conn, order_id)
    transit = in_transit_location(conn, head.from_site.id, head.to_site.id)
    stock = _transit_stock(conn, transit, {ln.item_id for ln in lines})
    intercompany = head.from_site.company_id != head.to_site.company_id
    arrived = list(cmd.lines) or [_everything(ln.sku, ln.open) for ln in lines if ln.open > 0]
    by_sku: dict[str, list[_OpenLine]] = defaultdict(list)
    for ln in lines:
        by_sku[ln.sku].append(ln)
    entered: list[InboundLine] = []
    sources: list[_TransitStock] = []
    line_of: list[_OpenLine] = []
    over: list[tuple[int, _OpenLine, int, str | None]] = []
    damaged: list[tuple[_OpenLine, int, str | None]] = []
    for i, a in enumerate(arrived):
        candidates = by_sku.get(a.sku)
        if not candidates:
            raise ValidationFailed(
                f"{a.sku} is not on transfer order {order_id}", field=f"lines[{i}].sku"
            )
        quantity = to_base_units(a.quantity, _ONE_FRACTION, field=f"lines[{i}].quantity")
        if a.status == "damaged":
            damaged.append((candidates[0], quantity, a.reason))
        for ln in candidates:
            if quantity == 0:
                break
            q = min(quantity, ln.open)
            if q == 0:
                continue
            for s, part in _take(stock[ln.item_id], q, a.lot, f"lines[{i}].lot"):
                entered.append(_inbound(a, part, s, intercompany, ln))
                sources.append(s)
                line_of.append(ln)
            ln.open -= q
            quantity -= q
        if quantity:
            over.append((i, candidates[-1], quantity, a.reason))
    if not entered and not over:
        raise ValidationFailed("nothing of the order is in transit to receive", field="lines")
    received: dict[int, int] = defaultdict(int)
    receipt_id = None
    if entered:
        resolved = resolve_lines(conn, head.to_site, entered)
        if not intercompany:
            resolved = [_from_transit(r, s) for r, s in zip(resolved, sources, strict=True)]
        posted = post_receipt(
            conn,
            actor,
            head.to_site,
            resolved,
            ReceiptHeader(
                reason_code="TRANSFER",
                source="transfer",
                transfer_order_id=order_id,
                source_location_id=None if intercompany else transit,
            ),
        )
        receipt_id = posted.id
        for r, ln in zip(resolved, line_of, strict=True):
            received[ln.id] += r.quantity
        if intercompany:
            _sell_in_transit(conn, actor, head, order_id, transit, entered, sources)
    over_ids = _receive_over(conn, actor, head, order_id, arrived, over)
    now = utcnow()
    findings = [
        {
            "order_id": order_id, "line_id": ln.id, "receipt_id": receipt_id, "kind": "over",
            "quantity": q, "reason_code": reason, "created_at": now,
            "created_by": actor.user_id,
        }
        for (_, ln, q, reason) in over
    ] + [
        {
            "order_id": order_id, "line_id": ln.id, "receipt_id": receipt_id,
            "kind": "damaged", "quantity": q, "reason_code": reason, "created_at": now,
            "created_by": actor.user_id,
        }
        for ln, q, reason in damaged
    ]  # fmt: skip
    if cmd.close:
        findings += [
            {
                "order_id": order_id, "line_id": ln.id, "receipt_id": receipt_id,
                "kind": "short", "quantity": ln.open, "reason_code": "TRANSFER_SHORT",
                "created_at": now, "created_by": actor.user_id,
            }
            for ln in lines
            if ln.open > 0
        ]  # fmt: skip
    if findings:
        conn.execute(transfer_discrepancy.insert(), findings)
    if received:
        conn.execute(
            sa.update(transfer_order_line)
            .where(transfer_order_line.c.id == sa.bindparam("line"))
            .values(quantity_received=transfer_order_line.c.quantity_received + sa.bindparam("q")),
            [{"line": line, "q": q} for line, q in sorted(received.items())],
        )
    status = _received_status(conn, order_id)
    _set_status(conn, order_id, status, received_at=now)
    journal.record(
        conn,
        actor,
        action="transfer_order.received",
        entity_type="transfer_order",
        entity_id=order_id,
        site_id=head.to_site.id,
        detail={
            "receipt": receipt_id,
            "over_receipt": over_ids,
            "quantity": sum(received.values()),
            "discrepancies": len(findings),
            "status": status,
        },
        topic="transfer_order.received",
    )
    return get_transfer(conn, actor, order_id)


@dataclass(frozen=True)
class _Everything:
    sku: str
    quantity: int
    lot: str | None = None
    status: str = "available"
    location: str | None = None
    reason: str | None = None


def _everything(sku: str, quantity: int) -> Any:
    return _Everything(sku, quantity)


def _inbound(a: Any, quantity: int, s: _TransitStock, intercompany: bool, ln: _OpenLine) -> Any:
    return InboundLine(
        sku=a.sku,
        quantity=quantity,
        location=a.location,
        lot=s.lot_code,
        expiry_date=s.expiry,
        status=a.status,
        # The receiving company owns it from here on an intercompany transfer; a site transfer
        # keeps the owner it travelled with (set from transit after resolving).
        owner=None,
        unit_cost=ln.transfer_price if intercompany else None,
    )


def _from_transit(r: ResolvedLine, s: _TransitStock) -> ResolvedLine:
    """The resolved line taking its stock key from transit: same lot and owner, leaving the
    status it travelled in."""
    r.source_status = s.status
    r.owner_id = s.owner_id
    return r


def _sell_in_transit(
    conn: Connection,
    actor: Actor,
    head: _Head,
    order_id: int,
    transit: int,
    entered: Sequence[InboundLine],
    sources: Sequence[_TransitStock],
) -> None:
    """Intercompany: the origin company's goods in transit leave its books (to the origin's
    customer location) as the receiving company takes them in at the transfer price."""
    buyer = virtual_location(conn, head.from_site.id, "customer")
    post_moves(
        conn,
        [
            MoveLine(
                item_id=_item_id(conn, e.sku),
                from_location_id=transit,
                to_location_id=buyer,
                quantity=int(e.quantity),
                owner_id=s.owner_id,
                lot_id=s.lot_id,
                from_status=s.status,
                to_status=s.status,
                line_no=n,
            )
            for n, (e, s) in enumerate(zip(entered, sources, strict=True))
        ],
        PostingContext("transfer_order", order_id, actor.user_id, "TRANSFER"),
    )


def _item_id(conn: Connection, sku: str) -> int:
    return int(conn.execute(sa.select(item.c.id).where(item.c.sku == sku)).scalar_one())


def _receive_over(
    conn: Connection,
    actor: Actor,
    head: _Head,
    order_id: int,
    arrived: Sequence[Any],
    over: Sequence[tuple[int, _OpenLine, int, str | None]],
) -> int | None:
    """More arrived than is open: received as found stock at the destination (from its
    inventory-loss location), recorded ``over`` for a supervisor."""
    if not over:
        return None
    lines = [
        InboundLine(
            sku=ln.sku,
            quantity=q,
            location=arrived[i].location,
            lot=arrived[i].lot,
            status=arrived[i].status,
        )
        for i, ln, q, _ in over
    ]
    resolved = resolve_lines(conn, head.to_site, lines)
    posted = post_receipt(
        conn,
        actor,
        head.to_site,
        resolved,
        ReceiptHeader(
            reason_code="TRANSFER_OVER",
            source="transfer",
            transfer_order_id=order_id,
            source_location_id=virtual_location(conn, head.to_site.id, "inventory_loss"),
        ),
    )
    return posted.id


def _received_status(conn: Connection, order_id: int) -> str:
    """``partially_shipped`` while the origin still owes lines; then ``shipped`` until
    something arrives, ``partially_received`` while anything is still in transit (a short not
    yet written off included), ``received`` when nothing is."""
    if not _all_lines(conn, order_id, "quantity_shipped"):
        return "partially_shipped"
    lines = _open_lines(conn, order_id)
    if any(ln.open > 0 for ln in lines):
        anything = conn.execute(
            sa.select(sa.func.count())
            .select_from(transfer_order_line)
            .where(
                transfer_order_line.c.order_id == order_id,
                transfer_order_line.c.quantity_received > 0,
            )
        ).scalar_one()
        return "partially_received" if anything else "shipped"
    return "received"


# --- discrepancies ----------------------------------------------------------------------------


def resolve_discrepancy(
    conn: Connection, actor: Actor, order_id: int, discrepancy_id: int, cmd: DiscrepancyResolve
) -> dict[str, Any]:
    """A supervisor settles a discrepancy — never the person who recorded it. A short is
    written off (in-transit → the origin's inventory-loss location, with the reason) or
    marked found (it stays in transit for a later receipt); an over or damaged line is
    accepted as received."""
    head = _head(conn, actor, order_id, lock=True)
    _at(actor, head.to_site, "to_site")
    require_reason_code(conn, cmd.reason, field="reason")
    row = conn.execute(
        sa.select(transfer_discrepancy)
        .where(
            transfer_discrepancy.c.id == discrepancy_id,
            transfer_discrepancy.c.order_id == order_id,
        )
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"discrepancy {discrepancy_id} not found", field="discrepancy_id")
    if row.created_by is not None and row.created_by == actor.user_id:
        raise Forbidden("a discrepancy is resolved by someone other than who recorded it")
    if row.status != "open":
        raise Conflict(f"discrepancy {discrepancy_id} is {row.status}", field="discrepancy_id")
    allowed = ("write_off", "found") if row.kind == "short" else ("accept",)
    if cmd.resolution not in allowed:
        raise ValidationFailed(
            f"a {row.kind} discrepancy is resolved by {' or '.join(allowed)}", field="resolution"
        )
    claimed = conn.execute(
        sa.update(transfer_discrepancy)
        .where(transfer_discrepancy.c.id == discrepancy_id, transfer_discrepancy.c.status == "open")
        .values(
            status="resolved",
            resolution=cmd.resolution,
            resolved_at=utcnow(),
            resolved_by=actor.user_id,
            reason_code=cmd.reason,
        )
    ).rowcount
    if claimed != 1:
        raise Conflict(
            f"discrepancy {discrepancy_id} was resolved meanwhile", field="discrepancy_id"
        )
    if cmd.resolution == "write_off":
        _write_off(conn, actor, head, order_id, row, cmd.reason)
    _set_status(conn, order_id, _received_status(conn, order_id))
    journal.record(
        conn,
        actor,
        action="transfer_order.discrepancy_resolved",
        entity_type="transfer_order",
        entity_id=order_id,
        site_id=head.to_site.id,
        reason=cmd.reason,
        detail={
            "discrepancy": discrepancy_id,
            "kind": row.kind,
            "quantity": row.quantity,
            "resolution": cmd.resolution,
        },
        topic="transfer_order.discrepancy_resolved",
    )
    return get_transfer(conn, actor, order_id)


def _write_off(
    conn: Connection, actor: Actor, head: _Head, order_id: int, row: Any, reason: str
) -> None:
    line = conn.execute(
        sa.select(transfer_order_line.c.item_id).where(transfer_order_line.c.id == row.line_id)
    ).scalar_one()
    transit = in_transit_location(conn, head.from_site.id, head.to_site.id)
    stock = _transit_stock(conn, transit, {line})
    takes = _take(stock[line], int(row.quantity), None, "discrepancy_id")
    loss = virtual_location(conn, head.from_site.id, "inventory_loss")
    post_moves(
        conn,
        [
            MoveLine(
                item_id=line,
                from_location_id=transit,
                to_location_id=loss,
                quantity=q,
                owner_id=s.owner_id,
                lot_id=s.lot_id,
                from_status=s.status,
                to_status=s.status,
                line_no=n,
            )
            for n, (s, q) in enumerate(takes)
        ],
        PostingContext("transfer_order", order_id, actor.user_id, reason),
    )


# --- read ---------------------------------------------------------------------------------------


def get_transfer(conn: Connection, actor: Actor, order_id: int) -> dict[str, Any]:
    head = _head(conn, actor, order_id)
    row = conn.execute(sa.select(transfer_order).where(transfer_order.c.id == order_id)).one()
    written = _written_off()
    # Plain tuples in one read: a transfer has up to thousands of lines.
    line_rows = conn.execute(
        sa.select(
            transfer_order_line.c.id,
            transfer_order_line.c.line_no,
            item.c.sku,
            transfer_order_line.c.quantity,
            transfer_order_line.c.quantity_allocated,
            transfer_order_line.c.quantity_shipped,
            transfer_order_line.c.quantity_received,
            written,
            transfer_order_line.c.due_date,
            transfer_order_line.c.short_cause,
            transfer_order_line.c.transfer_price,
            transfer_order_line.c.proposal_id,
        )
        .join(item, item.c.id == transfer_order_line.c.item_id)
        .where(transfer_order_line.c.order_id == order_id)
        .order_by(transfer_order_line.c.line_no)
    ).all()
    lines = []
    line_nos = {}
    for (
        line_id,
        no,
        sku,
        qty,
        allocated,
        shipped,
        got,
        off,
        due,
        cause,
        price,
        proposal,
    ) in line_rows:
        line_nos[line_id] = no
        lines.append(
            {
                "line_no": no,
                "sku": sku,
                "quantity": int(qty),
                "quantity_allocated": int(allocated),
                "quantity_shipped": int(shipped),
                "quantity_received": int(got),
                "quantity_in_transit": max(int(shipped) - int(got) - int(off), 0),
                "due_date": due,
                "short_cause": cause,
                "transfer_price": price,
                "proposal_id": proposal,
            }
        )
    findings = conn.execute(
        sa.select(transfer_discrepancy)
        .where(transfer_discrepancy.c.order_id == order_id)
        .order_by(transfer_discrepancy.c.id)
    ).all()
    receipts = sorted(
        conn.execute(
            sa.select(receipt.c.id).where(receipt.c.transfer_order_id == order_id)
        ).scalars()
    )
    intercompany = head.from_site.company_id != head.to_site.company_id
    return {
        "id": head.id,
        "from_site": head.from_site.code,
        "to_site": head.to_site.code,
        "status": row.status,
        "priority": row.priority,
        "intercompany": intercompany,
        "margin": _margin(conn, order_id) if intercompany else None,
        "created_at": iso_utc(row.created_at),
        "shipped_at": iso_utc(row.shipped_at),
        "received_at": iso_utc(row.received_at),
        "version": row.version,
        "lines": lines,
        "receipts": receipts,
        "discrepancies": [
            {
                "id": f.id,
                "line_no": line_nos.get(f.line_id),
                "kind": f.kind,
                "quantity": int(f.quantity),
                "status": f.status,
                "resolution": f.resolution,
                "reason": f.reason_code,
                "receipt": f.receipt_id,
            }
            for f in findings
        ],
    }


def _margin(conn: Connection, order_id: int) -> dict[str, Any]:
    """An intercompany transfer's margin so far: what the receiving company paid (the transfer
    price of what it received) against what the goods cost the shipping company (the value
    its books gave up when they left in-transit), as decimal strings; cost fields."""
    cost = -int(
        conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(valuation_entry.c.value), 0)).where(
                valuation_entry.c.document_type == "transfer_order",
                valuation_entry.c.document_id == order_id,
                valuation_entry.c.kind == "cogs",
            )
        ).scalar_one()
    )
    priced = conn.execute(
        sa.select(
            transfer_order_line.c.transfer_price, transfer_order_line.c.quantity_received
        ).where(transfer_order_line.c.order_id == order_id)
    ).all()
    price = sum(cost_value(Decimal(str(p)), int(q)) for p, q in priced if p is not None)
    return {
        "price_value": render(price),
        "cost_value": render(cost),
        "margin_value": render(price - cost),
    }


def list_transfers(
    conn: Connection,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    site_id: int | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    stmt = sa.select(transfer_order.c.id).order_by(transfer_order.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(transfer_order.c.id > after_id)
    if site_id is not None:
        stmt = stmt.where(
            sa.or_(transfer_order.c.from_site_id == site_id, transfer_order.c.to_site_id == site_id)
        )
    if not actor.all_sites:
        visible = sorted(actor.site_ids)
        stmt = stmt.where(
            sa.or_(
                transfer_order.c.from_site_id.in_(visible), transfer_order.c.to_site_id.in_(visible)
            )
        )
    if status is not None:
        stmt = stmt.where(transfer_order.c.status == status)
    return [get_transfer(conn, actor, int(i)) for i in conn.execute(stmt).scalars()]
