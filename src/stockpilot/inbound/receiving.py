"""Receiving: the one path by which goods enter a site — a receipt against a purchase order,
an ASN pallet (scan its SSCC, receive every line on it) or blind.

A receipt posts each line from the site's supplier location into the dock (or straight into
a bin the receiver names), records the arrival time, and creates one directed putaway task per
dock line; the purchase order's lines and state follow in the same transaction. Against a PO,
each line is judged by the supplier's tolerance (inbound.tolerance): beyond it the receipt is
refused unless a supervisor — not the receiver — allowed the extra units beforehand.

Every receipt — the API's, an ASN's, and the opening balances of ``stockpilot import stock``
(one receipt per site and chunk of the file, straight into bins) — is posted by
``post_receipt`` from lines resolved by ``inbound.receipt_lines.resolve_lines``. Any size costs
a constant number of statements: items, units, GTINs, lots, serials, PO lines, bins and their
contents are each read (or written) once per document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.inbound import tolerance
from stockpilot.inbound.receipt_lines import InboundLine, ResolvedLine, resolve_lines
from stockpilot.inbound.scan import ScanError, parse_scan, sku_for_gtin
from stockpilot.inbound.schemas import ReceiptCreate, ReceiptLineCreate
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.lots import new_serials
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import SiteRef, site_in_scope, virtual_location
from stockpilot.persistence import journal, raw
from stockpilot.persistence.tables import item, location, receipt_history, supplier
from stockpilot.persistence.warehouse_tables import (
    asn,
    asn_line,
    item_gtin,
    purchase_order,
    purchase_order_line,
    receipt,
    receipt_line,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.sql import insert_id

DOCK_CODE = "DOCK"


@dataclass(frozen=True)
class ReceiptHeader:
    """What a receipt document says besides its lines: where from, against what, and why."""

    reason_code: str = "RECEIPT"
    source: str = "receipt"
    """Which way the goods came in (``receipt``: the API and ASNs; ``import``: opening
    balances from a CSV file) — said in the audit row and the event."""
    purchase_order_id: int | None = None
    asn_id: int | None = None
    supplier_id: int | None = None
    transfer_order_id: int | None = None
    source_location_id: int | None = None
    """Where the goods come from: None is the site's supplier location; a transfer receipt
    takes them out of its route's in-transit location."""


@dataclass(frozen=True)
class PostedReceipt:
    id: int
    line_ids: list[int]
    quantity: int


def post_receipt(
    conn: Connection,
    actor: Actor,
    st: SiteRef,
    lines: Sequence[ResolvedLine],
    header: ReceiptHeader = ReceiptHeader(),
    *,
    po_line_ids: Mapping[int, int] | None = None,
) -> PostedReceipt:
    """Post resolved lines as one receipt document: the receipt row, its serial numbers, its
    moves from the site's supplier location (one ``post_moves``), its lines, a directed putaway
    task per line received to the dock, and one audit row with its event. A constant number of
    statements for any number of lines. ``po_line_ids`` maps a line's index to its PO line."""
    from stockpilot.inbound import crossdock, putaway

    now = utcnow()
    dock_id = _dock(conn, actor, st) if any(ln.location_id is None for ln in lines) else None
    receipt_id = insert_id(
        conn,
        receipt.insert().values(
            site_id=st.id,
            purchase_order_id=header.purchase_order_id,
            asn_id=header.asn_id,
            supplier_id=header.supplier_id,
            transfer_order_id=header.transfer_order_id,
            dock_location_id=dock_id,
            arrived_at=now,
            created_by=actor.user_id,
        ),
    )
    source = (
        header.source_location_id
        if header.source_location_id is not None
        else virtual_location(conn, st.id, "supplier")
    )
    serial_ids = new_serials(
        conn,
        [
            (ln.item.id, s, ln.lot_id, source, ln.status, ln.owner_id, f"lines[{ln.index}].serials")
            for ln in lines
            if ln.item.serial_tracked
            for s in ln.serials
        ],
    )
    moves: list[MoveLine] = []
    rows: list[tuple[object, ...]] = []
    stamp = raw.timestamp(conn, now)
    po_of = (po_line_ids or {}).get
    for no, ln in enumerate(lines):
        target = dock_id if ln.location_id is None else ln.location_id
        assert target is not None
        itm, status, owner_id, lot_id = ln.item, ln.status, ln.owner_id, ln.lot_id
        was = ln.source_status or status
        if itm.serial_tracked:
            for number in ln.serials:
                moves.append(
                    MoveLine(
                        itm.id, source, target, 1, owner_id, lot_id, was, status, no, ln.uom,
                        ln.entered, ln.unit_cost, serial_ids[(itm.id, number)],
                    )
                )  # fmt: skip
        else:
            moves.append(
                MoveLine(
                    itm.id, source, target, ln.quantity, owner_id, lot_id, was, status, no,
                    ln.uom, ln.entered, ln.unit_cost,
                )
            )  # fmt: skip
        rows.append(
            (
                receipt_id, no + 1, ln.item.id, ln.lot_id, ln.status, ln.quantity, target,
                po_of(ln.index), ln.asn_line_id, ln.sscc,
                None if ln.location_id is None else stamp,
            )
        )  # fmt: skip
    post_moves(
        conn,
        moves,
        PostingContext(
            document_type="receipt",
            document_id=receipt_id,
            user_id=actor.user_id,
            reason_code=header.reason_code,
        ),
    )
    _insert_lines(conn, rows)
    line_ids: list[int] = []
    if dock_id is not None:
        line_ids = _line_ids(conn, receipt_id)
        dock_lines = [
            (line_id, ln.owner_id, _task_source(ln, dock_id))
            for line_id, ln in zip(line_ids, lines, strict=True)
            if ln.location_id is None
        ]
        # Goods that waiting orders may take straight from the dock skip putaway.
        dock_lines = crossdock.cross_dock(conn, st, dock_id, dock_lines)
        putaway.create_putaway_tasks(conn, st, dock_lines, receipt_id)
    quantity = sum(ln.quantity for ln in lines)
    journal.record(
        conn,
        actor,
        action="receipt.posted",
        entity_type="receipt",
        entity_id=receipt_id,
        site_id=st.id,
        reason=header.reason_code,
        detail={
            "source": header.source,
            "purchase_order": header.purchase_order_id,
            "asn": header.asn_id,
            "transfer_order": header.transfer_order_id,
            "lines": len(lines),
            "quantity": quantity,
        },
        topic="receipt.posted",
    )
    return PostedReceipt(receipt_id, line_ids, quantity)


def _insert_lines(conn: Connection, rows: list[tuple[object, ...]]) -> None:
    """The receipt's lines: one executemany on SQLite; one INSERT of unnested arrays on
    PostgreSQL, where an executemany is still a statement per row on the server."""
    if conn.dialect.name == "postgresql":
        raw.execute(conn, _INSERT_LINES_PG, [list(column) for column in zip(*rows, strict=True)])
    else:
        raw.execute_many(conn, _INSERT_LINE, rows)


_INSERT_LINES_PG = raw.Sql(
    "",
    "INSERT INTO receipt_line (receipt_id, line_no, item_id, lot_id, status, quantity, "
    "location_id, purchase_order_line_id, asn_line_id, sscc, available_at) "
    "SELECT * FROM unnest(%s::bigint[], %s::integer[], %s::bigint[], %s::bigint[], "
    "%s::varchar[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], "
    "%s::timestamp[])",
)
_INSERT_LINE = raw.Sql(
    "INSERT INTO receipt_line (receipt_id, line_no, item_id, lot_id, status, quantity, "
    "location_id, purchase_order_line_id, asn_line_id, sscc, available_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _line_ids(conn: Connection, receipt_id: int) -> list[int]:
    """The new lines' ids in line order (one read, instead of a RETURNING per row batch)."""
    return [
        int(i)
        for i in conn.execute(
            sa.select(receipt_line.c.id)
            .where(receipt_line.c.receipt_id == receipt_id)
            .order_by(receipt_line.c.line_no)
        ).scalars()
    ]


def _task_source(ln: ResolvedLine, dock_id: int) -> dict[str, Any]:
    """The receipt line as the putaway rules read it."""
    return {
        "item_id": ln.item.id,
        "lot_id": ln.lot_id,
        "status": ln.status,
        "quantity": ln.quantity,
        "location_id": dock_id,
    }


def receive_goods(
    conn: Connection, actor: Actor, cmd: ReceiptCreate, *, max_lines: int
) -> dict[str, Any]:
    """Post one receipt; returns its body (lines, where they wait, their putaway tasks)."""
    st = site_in_scope(conn, actor, cmd.site)
    po = _purchase_order(conn, actor, cmd.purchase_order, st, "purchase_order")
    asn_row, asn_lines, asn_refs, asn_orders = _asn_lines(conn, actor, cmd, st)
    if po is None and len(asn_orders) == 1:
        # An ASN pallet shipped against one purchase order is received against it.
        po = _purchase_order(conn, actor, next(iter(asn_orders)), st, "sscc" if cmd.sscc else "asn")
    raw_lines = list(cmd.lines) or asn_lines
    if not raw_lines:
        raise ValidationFailed("a receipt needs at least one line", field="lines")
    if len(raw_lines) > max_lines:
        raise ValidationFailed(f"at most {max_lines} lines per document", field="lines")
    entered = _entered_lines(conn, raw_lines)
    if asn_refs:
        entered = [
            replace(ln, asn_line_id=line_id, sscc=sscc)
            for ln, (line_id, sscc) in zip(entered, asn_refs, strict=True)
        ]
    lines = resolve_lines(conn, st, entered)
    supplier_id = po.supplier_id if po is not None else asn_row.supplier_id if asn_row else None
    po_lines = _match_po_lines(conn, actor, po, lines) if po is not None else {}
    for index, row in po_lines.items():
        # Goods received against a purchase order cost what was ordered, unless the line
        # says otherwise (its value and cost layer start from it: stockpilot.valuation).
        if lines[index].unit_cost is None and row.unit_cost is not None:
            lines[index].unit_cost = Decimal(str(row.unit_cost))
    posted = post_receipt(
        conn,
        actor,
        st,
        lines,
        ReceiptHeader(
            purchase_order_id=po.id if po is not None else None,
            asn_id=asn_row.id if asn_row is not None else None,
            supplier_id=supplier_id,
        ),
        po_line_ids={index: row.id for index, row in po_lines.items()},
    )
    po_status = _update_purchase_order(conn, actor, po, lines, po_lines) if po is not None else None
    if asn_row is not None:
        _update_asn(conn, asn_row, lines)
    return get_receipt(conn, actor, posted.id) | {"purchase_order_status": po_status}


# --- the lines as entered -----------------------------------------------------------------------


def _entered_lines(conn: Connection, raw: Sequence[ReceiptLineCreate]) -> list[InboundLine]:
    """Each body line with its scan merged in (the scan's GTIN, lot, expiry and serial fill
    the line; where both speak they must agree)."""
    scans = [_scan(ln, i) for i, ln in enumerate(raw)]
    gtins = _gtin_skus(conn, {s.gtin for s in scans if s is not None and s.gtin})
    out: list[InboundLine] = []
    for i, (ln, sc) in enumerate(zip(raw, scans, strict=True)):
        merged = ln if sc is None else _merge_scan(ln, sc, gtins, i)
        if not merged.sku:
            raise ValidationFailed("a line needs a sku or a scan", field=f"lines[{i}].sku")
        if merged.quantity is None:
            raise ValidationFailed("a line needs a quantity", field=f"lines[{i}].quantity")
        out.append(
            InboundLine(
                sku=merged.sku,
                quantity=merged.quantity,
                uom=merged.uom,
                location=merged.location,
                lot=merged.lot,
                expiry_date=merged.expiry_date,
                status=merged.status,
                owner=merged.owner,
                unit_cost=merged.unit_cost,
                serials=tuple(merged.serials),
                purchase_order_line=merged.purchase_order_line,
            )
        )
    return out


def _scan(ln: ReceiptLineCreate, i: int) -> Any:
    if ln.scan is None:
        return None
    try:
        return parse_scan(ln.scan)
    except ScanError as exc:
        raise ValidationFailed(f"scan: {exc}", field=f"lines[{i}].scan.{exc.field}") from None


def _gtin_skus(conn: Connection, gtins: set[str]) -> dict[str, str]:
    if not gtins:
        return {}
    rows = conn.execute(
        sa.select(item_gtin.c.gtin, item.c.sku).join(item, item.c.id == item_gtin.c.item_id)
    )
    return {r.gtin: r.sku for r in rows}


def _merge_scan(ln: ReceiptLineCreate, sc: Any, gtins: dict[str, str], i: int) -> ReceiptLineCreate:
    """What the scan says fills the line; where both speak they must agree."""
    values: dict[str, Any] = {}
    if sc.gtin is not None:
        try:
            values["sku"] = sku_for_gtin(sc, gtins, expected_sku=ln.sku)
        except ScanError as exc:
            raise ValidationFailed(str(exc), field=f"lines[{i}].scan.gtin") from None
    for name, scanned in (("lot", sc.lot), ("expiry_date", sc.expiry_date)):
        given = getattr(ln, name)
        if scanned is not None and given is not None and given != scanned:
            raise ValidationFailed(
                f"the scan says {name} {scanned}, the line {given}", field=f"lines[{i}].{name}"
            )
        if scanned is not None:
            values[name] = scanned
    if sc.serial is not None:
        values["serials"] = [*ln.serials, sc.serial] if sc.serial not in ln.serials else ln.serials
    if ln.quantity is None:
        values["quantity"] = Decimal(sc.quantity if sc.quantity is not None else 1)
    return ln.model_copy(update=values)


# --- purchase orders and ASNs -------------------------------------------------------------------


def _purchase_order(
    conn: Connection, actor: Actor, order_id: int | None, st: SiteRef, field: str
) -> Any:
    if order_id is None:
        return None
    from stockpilot.inbound.purchase_orders import load_order

    po = load_order(conn, actor, order_id, lock=True)
    if po.site_id != st.id:
        raise ValidationFailed(f"purchase order {po.id} is for another site", field=field)
    tolerance.ensure_receivable(po.status)
    return po


def _asn_lines(
    conn: Connection, actor: Actor, cmd: ReceiptCreate, st: SiteRef
) -> tuple[Any, list[ReceiptLineCreate], list[tuple[int, str | None]], set[int]]:
    """The ASN being received and, without lines of its own, the lines to receive from it
    (all of them, or those on the scanned SSCC) with their ASN line ids and pallet codes, and
    the purchase orders those lines ship against."""
    if cmd.asn is None and cmd.sscc is None:
        return None, [], [], set()
    from stockpilot.inbound.scan import normalise_sscc

    stmt = sa.select(asn_line, asn.c.site_id, asn.c.supplier_id, asn.c.status).join(
        asn, asn.c.id == asn_line.c.asn_id
    )
    if cmd.sscc is not None:
        try:
            code = normalise_sscc(cmd.sscc.removeprefix("00") if len(cmd.sscc) == 20 else cmd.sscc)
        except ScanError as exc:
            raise ValidationFailed(str(exc), field="sscc") from None
        stmt = stmt.where(asn_line.c.sscc == code)
    if cmd.asn is not None:
        stmt = stmt.where(asn_line.c.asn_id == cmd.asn)
    rows = conn.execute(stmt.order_by(asn_line.c.id)).all()
    if not rows or not actor.can_see_site(rows[0].site_id) or rows[0].site_id != st.id:
        raise NotFound("no such ASN (or pallet) at this site", field="sscc" if cmd.sscc else "asn")
    if any(r.quantity_received for r in rows):
        raise Conflict("this ASN pallet was received already", field="sscc" if cmd.sscc else "asn")
    header = conn.execute(sa.select(asn).where(asn.c.id == rows[0].asn_id)).one()
    skus = dict(
        conn.execute(
            sa.select(item.c.id, item.c.sku).where(item.c.id.in_({r.item_id for r in rows}))
        ).all()
    )
    po_lines = conn.execute(
        sa.select(
            purchase_order_line.c.id, purchase_order_line.c.line_no, purchase_order_line.c.order_id
        ).where(
            purchase_order_line.c.id.in_(
                {r.purchase_order_line_id for r in rows if r.purchase_order_line_id}
            )
        )
    ).all()
    po_line_nos = {r.id: r.line_no for r in po_lines}
    if cmd.lines:
        return header, [], [], set()
    lines = [
        ReceiptLineCreate(
            sku=skus[r.item_id],
            quantity=Decimal(r.quantity),
            lot=r.lot_code,
            expiry_date=r.expiry_date,
            serials=list(r.serials or []),
            purchase_order_line=po_line_nos.get(r.purchase_order_line_id),
        )
        for r in rows
    ]
    return header, lines, [(r.id, r.sscc) for r in rows], {r.order_id for r in po_lines}


def _update_asn(conn: Connection, header: Any, lines: Sequence[ResolvedLine]) -> None:
    received = [(ln.asn_line_id, ln.quantity) for ln in lines if ln.asn_line_id is not None]
    if not received:
        return
    conn.execute(
        sa.update(asn_line)
        .where(asn_line.c.id == sa.bindparam("line_id"))
        .values(quantity_received=sa.bindparam("received")),
        [{"line_id": i, "received": q} for i, q in received],
    )
    left = conn.execute(
        sa.select(sa.func.count())
        .select_from(asn_line)
        .where(asn_line.c.asn_id == header.id, asn_line.c.quantity_received == 0)
    ).scalar_one()
    conn.execute(
        sa.update(asn)
        .where(asn.c.id == header.id)
        .values(status="received" if not left else "receiving")
    )


def _match_po_lines(
    conn: Connection, actor: Actor, po: Any, lines: Sequence[ResolvedLine]
) -> dict[int, Any]:
    """Each receipt line's PO line, and the tolerance check of every PO line it brings."""
    rows = conn.execute(
        sa.select(purchase_order_line)
        .where(purchase_order_line.c.order_id == po.id)
        .order_by(purchase_order_line.c.line_no)
    ).all()
    by_no = {r.line_no: r for r in rows}
    open_by_item: dict[int, list[Any]] = defaultdict(list)  # a dict, not a scan per line
    for r in rows:
        if not r.closed:
            open_by_item[r.item_id].append(r)
    receiving: dict[int, int] = defaultdict(int)
    matched: dict[int, Any] = {}
    first_index: dict[int, int] = {}
    for ln in lines:
        if ln.po_line_no is not None:
            row = by_no.get(ln.po_line_no)
            if row is None or row.item_id != ln.item.id:
                raise ValidationFailed(
                    f"purchase order {po.id} has no line {ln.po_line_no} for {ln.item.sku}",
                    field=f"lines[{ln.index}].purchase_order_line",
                )
        else:
            candidates = open_by_item.get(ln.item.id)
            if not candidates:
                raise ValidationFailed(
                    f"{ln.item.sku} is not on purchase order {po.id}",
                    field=f"lines[{ln.index}].sku",
                )
            row = next(
                (r for r in candidates if r.quantity_received + receiving[r.id] < r.quantity),
                candidates[-1],
            )
        matched[ln.index] = row
        first_index.setdefault(row.id, ln.index)
        receiving[row.id] += ln.quantity
    percent = tolerance.supplier_tolerance(
        conn.execute(
            sa.select(supplier.c.receipt_tolerance_pct).where(supplier.c.id == po.supplier_id)
        ).scalar()
    )
    receiver = str(actor.user_id)
    for row in rows:
        if row.id not in receiving:
            continue
        approval = None
        if row.over_receipt_allowed and row.over_receipt_approved_by is not None:
            if row.over_receipt_approved_by == actor.user_id:
                raise Forbidden(
                    "the supervisor who allowed the over-receipt may not receive it",
                    field="approved_by",
                )
            approval = tolerance.Approval(
                approver=str(row.over_receipt_approved_by), is_supervisor=True
            )
        if row.quantity_received + receiving[row.id] <= row.quantity:
            continue  # not beyond the order: accepted whatever the tolerance
        allowed_extra = row.over_receipt_allowed if approval is not None else 0
        decision = tolerance.decide_receipt(
            ordered=row.quantity + allowed_extra,
            received_before=row.quantity_received,
            receiving=receiving[row.id],
            tolerance_percent=percent,
            receiver=receiver,
            field=f"lines[{first_index[row.id]}].quantity",
        )
        tolerance.ensure_accepted(decision, field=f"lines[{first_index[row.id]}].quantity")
    return matched


def _update_purchase_order(
    conn: Connection, actor: Actor, po: Any, lines: Sequence[ResolvedLine], matched: dict[int, Any]
) -> str:
    receiving: dict[int, int] = defaultdict(int)
    for ln in lines:
        receiving[matched[ln.index].id] += ln.quantity
    conn.execute(
        sa.update(purchase_order_line)
        .where(purchase_order_line.c.id == sa.bindparam("line_id"))
        .values(quantity_received=purchase_order_line.c.quantity_received + sa.bindparam("q")),
        [{"line_id": k, "q": v} for k, v in sorted(receiving.items())],
    )
    rows = conn.execute(
        sa.select(
            purchase_order_line.c.quantity,
            purchase_order_line.c.quantity_received,
            purchase_order_line.c.closed,
        ).where(purchase_order_line.c.order_id == po.id)
    ).all()
    new = tolerance.receipt_transition(
        po.status,
        [tolerance.LineQuantities(r.quantity, r.quantity_received, bool(r.closed)) for r in rows],
    )
    today = utcnow().date()
    per_item: dict[int, int] = defaultdict(int)
    for ln in lines:
        per_item[ln.item.id] += ln.quantity
    conn.execute(
        receipt_history.insert(),
        [
            {
                "item_id": item_id,
                "site_id": po.site_id,
                "supplier_id": po.supplier_id,
                "order_date": po.order_date or today,
                "receipt_date": today,
                "quantity": q,
                "source": "receipt",
            }
            for item_id, q in sorted(per_item.items())
        ],
    )
    if new is None:
        return str(po.status)
    changed = conn.execute(
        sa.update(purchase_order)
        .where(purchase_order.c.id == po.id, purchase_order.c.status == po.status)
        .values(status=new.value, version=purchase_order.c.version + 1)
    ).rowcount
    if changed != 1:
        raise Conflict(f"purchase order {po.id} changed meanwhile", field="purchase_order")
    return new.value


# --- places -------------------------------------------------------------------------------------


def _dock(conn: Connection, actor: Actor, st: SiteRef) -> int:
    """The site's receiving dock (the first dock bin by walk order), made on first use."""
    found = conn.execute(
        sa.select(location.c.id)
        .where(location.c.site_id == st.id, location.c.kind == "dock", location.c.active.is_(True))
        .order_by(location.c.walk_sequence, location.c.id)
        .limit(1)
    ).scalar()
    if found is not None:
        return int(found)
    from stockpilot.network.service import create_location

    return create_location(conn, actor, st.code, DOCK_CODE, "dock")


# --- reading ------------------------------------------------------------------------------------


def get_receipt(conn: Connection, actor: Actor, receipt_id: int) -> dict[str, Any]:
    from stockpilot.persistence.tables import lot, site
    from stockpilot.persistence.warehouse_tables import task

    head = conn.execute(
        sa.select(receipt, site.c.code.label("site"), supplier.c.code.label("supplier"))
        .join(site, site.c.id == receipt.c.site_id)
        .outerjoin(supplier, supplier.c.id == receipt.c.supplier_id)
        .where(receipt.c.id == receipt_id)
    ).first()
    if head is None or not actor.can_see_site(head.site_id):
        raise NotFound(f"receipt {receipt_id} not found", field="receipt_id")
    tasks = dict(
        conn.execute(
            sa.select(task.c.document_line_id, task.c.id).where(
                task.c.document_type == "receipt", task.c.document_id == receipt_id
            )
        ).all()
    )
    po_line_nos = purchase_order_line.alias("pol")
    rows = conn.execute(
        sa.select(
            receipt_line,
            item.c.sku,
            lot.c.lot_code,
            location.c.code.label("location"),
            po_line_nos.c.line_no.label("po_line_no"),
        )
        .join(item, item.c.id == receipt_line.c.item_id)
        .join(location, location.c.id == receipt_line.c.location_id)
        .outerjoin(lot, lot.c.id == receipt_line.c.lot_id)
        .outerjoin(po_line_nos, po_line_nos.c.id == receipt_line.c.purchase_order_line_id)
        .where(receipt_line.c.receipt_id == receipt_id)
        .order_by(receipt_line.c.line_no)
    ).all()
    lines = [
        {
            "line_no": r.line_no,
            "sku": r.sku,
            "quantity": r.quantity,
            "lot": r.lot_code,
            "status": r.status,
            "location": r.location,
            "purchase_order_line": r.po_line_no,
            "sscc": r.sscc,
            "putaway_task": tasks.get(r.id),
        }
        for r in rows
    ]
    status = None
    if head.purchase_order_id is not None:
        status = conn.execute(
            sa.select(purchase_order.c.status).where(purchase_order.c.id == head.purchase_order_id)
        ).scalar()
    return {
        "id": head.id,
        "document_type": "receipt",
        "site": head.site,
        "purchase_order": head.purchase_order_id,
        "asn": head.asn_id,
        "supplier": head.supplier,
        "arrived_at": iso_utc(head.arrived_at),
        "moves": len(lines),
        "quantity": sum(ln["quantity"] for ln in lines),
        "lines": lines,
        "putaway_tasks": sorted(t for t in tasks.values()),
        "purchase_order_status": status,
    }
