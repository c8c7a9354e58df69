"""Returns (RMA): authorise, receive into inspection, dispose of each line.

``authorised`` → ``received`` → ``closed`` (or ``cancelled`` before anything arrived), each
step one guarded transition (``UPDATE … WHERE status = :from``) in the transaction of the
moves it posts.

- **Authorise**: a return names the customer and, optionally, the original sales order or
  shipment; it may not bring back more of an item than was shipped to that customer (on that
  order or shipment when named), less what earlier returns already brought back. The customer
  row is locked while this is judged, so two concurrent returns cannot both take the rest.
- **Receive**: the goods come in through the one receiving path (inbound.receiving.
  post_receipt, reason ``RETURN``) straight into an inspection bin (the dock by default) in
  status ``inspection`` — not allocatable — from the site's customer location (one move per
  line: the customer is the source of the goods in the ledger). With the setting
  ``returns_as_negative_demand`` the quantities enter demand history as negative demand.
- **Dispose** of each line, one move with the disposition's reason code: ``saleable`` → status
  available (in place or to a bin), ``repair`` → status damaged, ``scrap`` → the scrap
  location, ``return_to_vendor`` → the supplier location.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import items_by_sku
from stockpilot.inbound.receipt_lines import InboundLine, resolve_lines
from stockpilot.inbound.receiving import ReceiptHeader, post_receipt
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import SiteRef, site_in_scope, virtual_location
from stockpilot.persistence import journal
from stockpilot.persistence.control_tables import return_line, return_order
from stockpilot.persistence.tables import (
    customer,
    demand_history,
    item,
    location,
    lot,
    sales_order,
    site,
)
from stockpilot.persistence.warehouse_tables import shipment, shipment_line
from stockpilot.returns.schemas import DispositionLine, ReturnCreate, ReturnDispose
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.sql import insert_id

DISPOSITION_REASONS = {
    "saleable": "RMA-SALEABLE",
    "repair": "RMA-REPAIR",
    "scrap": "RMA-SCRAP",
    "return_to_vendor": "RMA-RTV",
}
INSPECTION_STATUS = "inspection"


def returnable(
    shipped: dict[int, int], returned: dict[int, int], asked: dict[int, int]
) -> dict[int, int]:
    """Per item, how much ``asked`` exceeds what was shipped less what was returned already
    (only items that exceed; empty: the return is within what was shipped).

    >>> returnable({1: 5}, {1: 2}, {1: 3})
    {}
    >>> returnable({1: 5}, {1: 2}, {1: 4, 2: 1})
    {1: 1, 2: 1}
    """
    over = {}
    for item_id, quantity in asked.items():
        left = shipped.get(item_id, 0) - returned.get(item_id, 0)
        if quantity > left:
            over[item_id] = quantity - left
    return over


# --- authorise ---------------------------------------------------------------------------------


def _customer_id(conn: Connection, code: str) -> int:
    found = conn.execute(
        sa.select(customer.c.id).where(customer.c.code == code).with_for_update()
    ).scalar()
    if found is None:
        raise ValidationFailed(f"unknown customer {code!r}", field="customer")
    return int(found)


def _shipped(
    conn: Connection, customer_id: int, item_ids: list[int], cmd: ReturnCreate
) -> dict[int, int]:
    stmt = (
        sa.select(shipment_line.c.item_id, sa.func.sum(shipment_line.c.quantity))
        .join(shipment, shipment.c.id == shipment_line.c.shipment_id)
        .join(sales_order, sales_order.c.id == shipment.c.order_id)
        .where(sales_order.c.customer_id == customer_id, shipment_line.c.item_id.in_(item_ids))
        .group_by(shipment_line.c.item_id)
    )
    if cmd.sales_order is not None:
        stmt = stmt.where(sales_order.c.id == cmd.sales_order)
    if cmd.shipment is not None:
        stmt = stmt.where(shipment.c.id == cmd.shipment)
    return {int(i): int(q) for i, q in conn.execute(stmt)}


def _returned(
    conn: Connection, customer_id: int, item_ids: list[int], cmd: ReturnCreate
) -> dict[int, int]:
    stmt = (
        sa.select(return_line.c.item_id, sa.func.sum(return_line.c.quantity))
        .join(return_order, return_order.c.id == return_line.c.return_id)
        .where(
            return_order.c.customer_id == customer_id,
            return_order.c.status != "cancelled",
            return_line.c.item_id.in_(item_ids),
        )
        .group_by(return_line.c.item_id)
    )
    if cmd.sales_order is not None:
        stmt = stmt.where(return_order.c.sales_order_id == cmd.sales_order)
    if cmd.shipment is not None:
        stmt = stmt.where(return_order.c.shipment_id == cmd.shipment)
    return {int(i): int(q) for i, q in conn.execute(stmt)}


def _lot_ids(conn: Connection, items: dict[str, Any], cmd: ReturnCreate) -> list[int]:
    out = []
    for i, ln in enumerate(cmd.lines):
        itm = items[ln.sku]
        if itm.serial_tracked:
            raise ValidationFailed(
                f"{itm.sku} is serial-tracked: returns of serial numbers are not taken here",
                field=f"lines[{i}].sku",
            )
        if not itm.lot_tracked:
            if ln.lot:
                raise ValidationFailed(f"{itm.sku} is not lot-tracked", field=f"lines[{i}].lot")
            out.append(0)
            continue
        found = conn.execute(
            sa.select(lot.c.id).where(lot.c.item_id == itm.id, lot.c.lot_code == (ln.lot or ""))
        ).scalar()
        if found is None:
            raise ValidationFailed(
                f"{itm.sku} is lot-tracked: name a lot it was shipped in", field=f"lines[{i}].lot"
            )
        out.append(int(found))
    return out


def create_return(conn: Connection, actor: Actor, cmd: ReturnCreate) -> dict[str, Any]:
    """Authorise a return within what was shipped to the customer (422 naming the line)."""
    st = site_in_scope(conn, actor, cmd.site)
    items = items_by_sku(conn, {ln.sku for ln in cmd.lines})
    for i, ln in enumerate(cmd.lines):
        if ln.sku not in items:
            raise ValidationFailed(f"unknown sku {ln.sku!r}", field=f"lines[{i}].sku")
    lot_ids = _lot_ids(conn, items, cmd)
    customer_id = _customer_id(conn, cmd.customer)
    asked: dict[int, int] = defaultdict(int)
    first: dict[int, int] = {}
    for i, ln in enumerate(cmd.lines):
        asked[items[ln.sku].id] += ln.quantity
        first.setdefault(items[ln.sku].id, i)
    item_ids = sorted(asked)
    shipped = _shipped(conn, customer_id, item_ids, cmd)
    returned = _returned(conn, customer_id, item_ids, cmd)
    over = returnable(shipped, returned, dict(asked))
    if over:
        item_id = min(over, key=lambda k: first[k])
        i = first[item_id]
        raise ValidationFailed(
            f"{cmd.lines[i].sku}: returning {asked[item_id]} but {shipped.get(item_id, 0)} were "
            f"shipped to {cmd.customer} and {returned.get(item_id, 0)} returned already",
            field=f"lines[{i}].quantity",
            quantity_shipped=shipped.get(item_id, 0),
            quantity_returned=returned.get(item_id, 0),
        )
    return_id = insert_id(
        conn,
        return_order.insert().values(
            site_id=st.id,
            customer_id=customer_id,
            sales_order_id=cmd.sales_order,
            shipment_id=cmd.shipment,
            reason=cmd.reason,
            created_at=utcnow(),
            created_by=actor.user_id,
        ),
    )
    conn.execute(
        return_line.insert(),
        [
            {
                "return_id": return_id,
                "line_no": n,
                "item_id": items[ln.sku].id,
                "lot_id": lot_ids[n - 1],
                "quantity": ln.quantity,
                "disposition": ln.disposition,
            }
            for n, ln in enumerate(cmd.lines, start=1)
        ],
    )
    journal.record(
        conn,
        actor,
        action="return.authorised",
        entity_type="return",
        entity_id=return_id,
        site_id=st.id,
        reason=cmd.reason,
        detail={"customer": cmd.customer, "lines": len(cmd.lines), "quantity": sum(asked.values())},
        topic="return.authorised",
    )
    return get_return(conn, actor, return_id)


# --- receive -----------------------------------------------------------------------------------


def _step(conn: Connection, return_id: int, from_status: str, **values: Any) -> None:
    changed = conn.execute(
        sa.update(return_order)
        .where(return_order.c.id == return_id, return_order.c.status == from_status)
        .values(**values, version=return_order.c.version + 1)
    ).rowcount
    if changed != 1:
        raise Conflict(f"return {return_id} is no longer {from_status}", field="return_id")


def _inspection_bin(conn: Connection, actor: Actor, st: SiteRef, code: str | None) -> Any:
    stmt = sa.select(location.c.id, location.c.code).where(
        location.c.site_id == st.id, location.c.is_virtual.is_(False)
    )
    if code is not None:
        found = conn.execute(stmt.where(location.c.code == code)).first()
        if found is None:
            raise ValidationFailed(f"unknown location {code!r} at {st.code}", field="location")
        return found
    found = conn.execute(
        stmt.where(location.c.kind == "dock", location.c.active.is_(True))
        .order_by(location.c.walk_sequence, location.c.id)
        .limit(1)
    ).first()
    if found is None:
        from stockpilot.inbound.receiving import DOCK_CODE
        from stockpilot.network.service import create_location

        create_location(conn, actor, st.code, DOCK_CODE, "dock")
        found = conn.execute(stmt.where(location.c.code == DOCK_CODE)).one()
    return found


def receive_return(
    conn: Connection,
    actor: Actor,
    return_id: int,
    location_code: str | None = None,
    *,
    negative_demand: bool = False,
) -> dict[str, Any]:
    """Receive every line of an authorised return into inspection (one receipt)."""
    head = _visible(conn, actor, return_id)
    st = site_in_scope(conn, actor, _site_code(conn, head.site_id))
    _step(conn, return_id, "authorised", status="received", received_at=utcnow())
    bin_row = _inspection_bin(conn, actor, st, location_code)
    rows = _lines(conn, return_id)
    resolved = resolve_lines(
        conn,
        st,
        [
            InboundLine(
                sku=r.sku,
                quantity=Decimal(r.quantity),
                location=bin_row.code,
                lot=r.lot_code,
                status=INSPECTION_STATUS,
            )
            for r in rows
        ],
    )
    # The goods come back from the customer (not the supplier location, receiving's default),
    # leaving the status they were shipped in: one move per line, customer → inspection.
    for line in resolved:
        line.source_status = "available"
    posted = post_receipt(
        conn,
        actor,
        st,
        resolved,
        ReceiptHeader(
            reason_code="RETURN",
            source="return",
            source_location_id=virtual_location(conn, st.id, "customer"),
        ),
    )
    conn.execute(
        sa.update(return_line)
        .where(return_line.c.return_id == return_id)
        .values(quantity_received=return_line.c.quantity)
    )
    conn.execute(
        sa.update(return_order)
        .where(return_order.c.id == return_id)
        .values(receipt_id=posted.id, location_id=bin_row.id)
    )
    if negative_demand:
        today = utcnow().date()
        conn.execute(
            demand_history.insert(),
            [
                {
                    "item_id": r.item_id,
                    "site_id": st.id,
                    "customer_id": head.customer_id,
                    "requested_date": today,
                    "quantity": -r.quantity,
                    "source": "return",
                }
                for r in rows
            ],
        )
    journal.record(
        conn,
        actor,
        action="return.received",
        entity_type="return",
        entity_id=return_id,
        site_id=st.id,
        reason="RETURN",
        detail={"receipt": posted.id, "quantity": posted.quantity, "location": bin_row.code},
        topic="return.received",
    )
    return get_return(conn, actor, return_id)


# --- dispose -----------------------------------------------------------------------------------


def dispose_return(
    conn: Connection, actor: Actor, return_id: int, cmd: ReturnDispose
) -> dict[str, Any]:
    """Dispose of lines of a received return (those named, or every line still waiting with
    the disposition it was authorised with): one move per line with its reason code."""
    head = _visible(conn, actor, return_id)
    if head.status != "received":
        raise Conflict(f"return {return_id} is {head.status}", field="return_id")
    st = site_in_scope(conn, actor, _site_code(conn, head.site_id))
    rows = {r.line_no: r for r in _lines(conn, return_id)}
    wanted = cmd.lines or [
        DispositionLine(line_no=n) for n, r in rows.items() if r.disposed_as is None
    ]
    bins: dict[str, int] = {}
    moves: list[MoveLine] = []
    done: list[dict[str, Any]] = []
    for i, d in enumerate(wanted):
        r = rows.get(d.line_no)
        if r is None:
            raise ValidationFailed(
                f"return {return_id} has no line {d.line_no}", field=f"lines[{i}].line_no"
            )
        if r.disposed_as is not None:
            raise Conflict(f"line {d.line_no} was disposed of already", field=f"lines[{i}].line_no")
        disposition = d.disposition or r.disposition
        if disposition is None:
            raise ValidationFailed(
                "say how the line is disposed of", field=f"lines[{i}].disposition"
            )
        target, to_status = _destination(conn, st, head, disposition, d.location, bins, i)
        reason = DISPOSITION_REASONS[disposition]
        moves.append(
            MoveLine(
                item_id=r.item_id,
                from_location_id=head.location_id,
                to_location_id=target,
                quantity=r.quantity_received,
                owner_id=st.company_id,
                lot_id=r.lot_id,
                from_status=INSPECTION_STATUS,
                to_status=to_status,
                line_no=r.line_no,
                reason_code=reason,
            )
        )
        done.append({"id": r.id, "as": disposition, "to": target, "reason": reason})
    if not moves:
        raise Conflict(f"return {return_id} has nothing left to dispose of", field="lines")
    post_moves(conn, moves, PostingContext("return", return_id, actor.user_id))
    now = utcnow()
    changed = conn.execute(
        sa.update(return_line)
        .where(return_line.c.id == sa.bindparam("line_id"), return_line.c.disposed_as.is_(None))
        .values(
            disposed_as=sa.bindparam("as_"),
            disposed_location_id=sa.bindparam("to"),
            reason_code=sa.bindparam("reason"),
            disposed_by=actor.user_id,
            disposed_at=now,
        ),
        [{"line_id": x["id"], "as_": x["as"], "to": x["to"], "reason": x["reason"]} for x in done],
    ).rowcount
    if changed != len(done):
        raise Conflict(f"return {return_id} was disposed of meanwhile", field="return_id")
    left = conn.execute(
        sa.select(sa.func.count())
        .select_from(return_line)
        .where(return_line.c.return_id == return_id, return_line.c.disposed_as.is_(None))
    ).scalar_one()
    if not left:
        _step(conn, return_id, "received", status="closed", closed_at=now)
    journal.record(
        conn,
        actor,
        action="return.disposed",
        entity_type="return",
        entity_id=return_id,
        site_id=st.id,
        detail={
            "lines": [
                {"line_no": m.line_no, "disposition": x["as"]}
                for m, x in zip(moves, done, strict=True)
            ]
        },
        topic="return.disposed",
    )
    return get_return(conn, actor, return_id)


def _destination(
    conn: Connection,
    st: SiteRef,
    head: Any,
    disposition: str,
    code: str | None,
    bins: dict[str, int],
    i: int,
) -> tuple[int, str]:
    if disposition in ("scrap", "return_to_vendor"):
        if code is not None:
            raise ValidationFailed(
                f"a {disposition} line leaves the site: no bin to name",
                field=f"lines[{i}].location",
            )
        kind = "scrap" if disposition == "scrap" else "supplier"
        return virtual_location(
            conn, st.id, kind
        ), "damaged" if kind == "scrap" else INSPECTION_STATUS
    status = "available" if disposition == "saleable" else "damaged"
    if code is None:
        return int(head.location_id), status
    if code not in bins:
        found = conn.execute(
            sa.select(location.c.id).where(
                location.c.site_id == st.id,
                location.c.code == code,
                location.c.is_virtual.is_(False),
            )
        ).scalar()
        if found is None:
            raise ValidationFailed(
                f"unknown location {code!r} at {st.code}", field=f"lines[{i}].location"
            )
        bins[code] = int(found)
    return bins[code], status


def cancel_return(conn: Connection, actor: Actor, return_id: int) -> dict[str, Any]:
    """Cancel an authorised return (nothing received): its quantities are returnable again."""
    head = _visible(conn, actor, return_id)
    _step(conn, return_id, "authorised", status="cancelled", closed_at=utcnow())
    journal.record(
        conn, actor, action="return.cancelled", entity_type="return", entity_id=return_id,
        site_id=head.site_id, topic="return.cancelled",
    )  # fmt: skip
    return get_return(conn, actor, return_id)


# --- reading -----------------------------------------------------------------------------------


def _site_code(conn: Connection, site_id: int) -> str:
    return str(conn.execute(sa.select(site.c.code).where(site.c.id == site_id)).scalar_one())


def _visible(conn: Connection, actor: Actor, return_id: int) -> Any:
    head = conn.execute(sa.select(return_order).where(return_order.c.id == return_id)).first()
    if head is None or not actor.can_see_site(head.site_id):
        raise NotFound(f"return {return_id} not found", field="return_id")
    return head


def _lines(conn: Connection, return_id: int) -> Sequence[Any]:
    return _lines_of(conn, [return_id])


def _lines_of(conn: Connection, return_ids: Sequence[int]) -> Sequence[Any]:
    disposed = location.alias("disposed")
    return conn.execute(
        sa.select(return_line, item.c.sku, lot.c.lot_code, disposed.c.code.label("disposed_code"))
        .join(item, item.c.id == return_line.c.item_id)
        .outerjoin(lot, lot.c.id == return_line.c.lot_id)
        .outerjoin(disposed, disposed.c.id == return_line.c.disposed_location_id)
        .where(return_line.c.return_id.in_(list(return_ids)))
        .order_by(return_line.c.return_id, return_line.c.line_no)
    ).all()


def _heads() -> sa.Select[Any]:
    return (
        sa.select(
            return_order,
            site.c.code.label("site_code"),
            customer.c.code.label("customer_code"),
            location.c.code.label("bin_code"),
        )
        .join(site, site.c.id == return_order.c.site_id)
        .join(customer, customer.c.id == return_order.c.customer_id)
        .outerjoin(location, location.c.id == return_order.c.location_id)
    )


def get_return(conn: Connection, actor: Actor, return_id: int) -> dict[str, Any]:
    head = conn.execute(_heads().where(return_order.c.id == return_id)).first()
    if head is None or not actor.can_see_site(head.site_id):
        raise NotFound(f"return {return_id} not found", field="return_id")
    return _render(head, _lines(conn, return_id))


def list_returns(
    conn: Connection,
    actor: Actor,
    *,
    site_id: int | None,
    status: str | None,
    after_id: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """One page of returns with their lines: two statements for any page size."""
    from stockpilot.shared.sql import scoped_page

    stmt = scoped_page(
        _heads(), return_order, actor, after_id=after_id, limit=limit, site_id=site_id,
        status=status,
    )  # fmt: skip
    heads = conn.execute(stmt).all()
    by_return: dict[int, list[Any]] = defaultdict(list)
    for r in _lines_of(conn, [h.id for h in heads]):
        by_return[r.return_id].append(r)
    return [_render(h, by_return[h.id]) for h in heads]


def _render(head: Any, lines: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": head.id,
        "site": head.site_code,
        "customer": head.customer_code,
        "sales_order": head.sales_order_id,
        "shipment": head.shipment_id,
        "reason": head.reason,
        "status": head.status,
        "receipt": head.receipt_id,
        "location": head.bin_code,
        "created_at": iso_utc(head.created_at),
        "received_at": iso_utc(head.received_at),
        "closed_at": iso_utc(head.closed_at),
        "lines": [
            {
                "line_no": r.line_no,
                "sku": r.sku,
                "lot": r.lot_code,
                "quantity": r.quantity,
                "disposition": r.disposition,
                "quantity_received": r.quantity_received,
                "disposed_as": r.disposed_as,
                "disposed_location": r.disposed_code,
                "reason_code": r.reason_code,
            }
            for r in lines
        ],
    }
