"""Advance shipping notices (ASNs) into the database: from a JSON body, an X12 856 interchange
or an ASN CSV file, all through `create_asns`.

Every reference is resolved before anything is written — purchase orders (by id or number)
and their lines, SKUs (or GTINs through ``item_gtin``), units to base units — and each ASN is
checked: SSCC check digits, pallet codes not already announced, lot and serial capture that the
receipt will need, and no PO line announced beyond its open quantity plus the supplier's
tolerance (what other open ASNs already announce counts as on its way). A request costs a
constant number of statements whatever its size, and writes all its ASNs or none.

Receiving an ASN (whole, or one pallet by its SSCC) is `inbound.receiving.receive_goods`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import ItemRef, UnitFactors, items_by_sku
from stockpilot.inbound import tolerance
from stockpilot.inbound.asn_schemas import AsnCreate, AsnLineCreate, from_parsed
from stockpilot.inbound.edi_x12 import Asn
from stockpilot.inbound.purchase_orders import RECEIVING_STATES
from stockpilot.inbound.scan import ScanError, normalise_gtin, normalise_sscc
from stockpilot.network.service import SiteRef, site_in_scope
from stockpilot.persistence import journal
from stockpilot.persistence.tables import item, site, supplier
from stockpilot.persistence.warehouse_tables import (
    asn,
    asn_line,
    item_gtin,
    purchase_order,
    purchase_order_line,
    receipt,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, ValidationFailed
from stockpilot.shared.fields import MAX_QUANTITY, iso_utc
from stockpilot.shared.quantities import to_base_units
from stockpilot.shared.sql import scoped_page

OPEN_ASN_STATES = ("open", "receiving")
"""ASNs whose unreceived lines are still on their way."""


@dataclass(frozen=True)
class AsnDocument:
    """One ASN to create: the command, where each line stands in its file, and its origin
    (``api``, ``x12`` or ``csv``). From a file, an unknown sender reference is not an error:
    the supplier is then the purchase orders' own."""

    cmd: AsnCreate
    origin: str = "api"
    sources: Sequence[str | None] = ()
    prefix: str = ""

    def where(self, index: int, name: str) -> str:
        return f"{self.prefix}lines[{index}].{name}"

    def source(self, index: int) -> str:
        found = self.sources[index] if index < len(self.sources) else None
        return f" ({found})" if found else ""


def documents_from_parsed(parsed: Sequence[Asn], origin: str) -> list[AsnDocument]:
    """The documents of an X12 interchange or a CSV file, each ASN's fields prefixed
    ``asns[k].`` when the file holds several."""
    out = []
    for k, one in enumerate(parsed):
        prefix = f"asns[{k}]." if len(parsed) > 1 else ""
        try:
            cmd, sources = from_parsed(one)
        except ValidationError as exc:
            raise _refusal(exc, one, prefix) from None
        out.append(AsnDocument(cmd, origin, sources, prefix))
    return out


def _refusal(exc: ValidationError, parsed: Asn, prefix: str) -> ValidationFailed:
    """The first refused field of a parsed ASN, named as in a JSON body, with its place in
    the file."""
    first = exc.errors()[0]
    loc = [str(p) for p in first.get("loc", ())]
    if len(loc) >= 3 and loc[0] == "lines" and loc[1].isdigit():
        index = int(loc[1])
        field = f"{prefix}lines[{index}].{loc[2]}"
        source = parsed.lines[index].source if index < len(parsed.lines) else None
    else:
        field, source = prefix + ".".join(loc or ["asn"]), None
    where = f" ({source})" if source else ""
    return ValidationFailed(
        f"ASN {parsed.number}: {first.get('msg', 'invalid')}{where}", field=field
    )


@dataclass(frozen=True)
class _Line:
    index: int
    item: ItemRef
    quantity: int
    po_id: int | None
    po_line_id: int | None
    lot: str | None
    expiry_date: Any
    serials: tuple[str, ...]
    sscc: str | None


@dataclass(frozen=True)
class _Header:
    doc: AsnDocument
    site_id: int
    supplier_id: int
    lines: list[_Line]


def create_asns(
    conn: Connection, actor: Actor, docs: Sequence[AsnDocument], *, max_lines: int | None = None
) -> list[int]:
    """Check and insert ``docs``; returns the new ASN ids in order. ``max_lines`` caps the
    lines of each ASN (the API's batch limit; an import has none)."""
    if not docs:
        raise ValidationFailed("nothing to create: the file holds no ASN", field="asns")
    for doc in docs:
        if max_lines is not None and len(doc.cmd.lines) > max_lines:
            raise ValidationFailed(
                f"at most {max_lines} lines per document", field=f"{doc.prefix}lines"
            )
    refs = _References.load(conn, actor, docs)
    headers = [_check_document(conn, actor, doc, refs) for doc in docs]
    _check_unique(conn, headers)
    _check_tolerance(conn, headers, refs)
    now = utcnow()
    ids = [
        int(r[0])
        for r in conn.execute(
            asn.insert().returning(asn.c.id, sort_by_parameter_order=True),
            [
                {
                    "number": h.doc.cmd.number,
                    "supplier_id": h.supplier_id,
                    "site_id": h.site_id,
                    "status": "open",
                    "ship_date": h.doc.cmd.ship_date,
                    "expected_date": h.doc.cmd.expected_date,
                    "source": h.doc.origin,
                    "created_at": now,
                    "created_by": actor.user_id,
                }
                for h in headers
            ],
        )
    ]
    conn.execute(
        asn_line.insert(),
        [
            {
                "asn_id": asn_id,
                "line_no": ln.index + 1,
                "purchase_order_line_id": ln.po_line_id,
                "item_id": ln.item.id,
                "quantity": ln.quantity,
                "lot_code": ln.lot,
                "expiry_date": ln.expiry_date,
                "serials": list(ln.serials) or None,
                "sscc": ln.sscc,
            }
            for asn_id, h in zip(ids, headers, strict=True)
            for ln in h.lines
        ],
    )
    for asn_id, h in zip(ids, headers, strict=True):
        journal.record(
            conn,
            actor,
            action="asn.created",
            entity_type="asn",
            entity_id=asn_id,
            site_id=h.site_id,
            detail={
                "number": h.doc.cmd.number,
                "source": h.doc.origin,
                "lines": len(h.lines),
                "quantity": sum(ln.quantity for ln in h.lines),
                "ssccs": len({ln.sscc for ln in h.lines if ln.sscc}),
            },
            topic="asn.created",
        )
    return ids


# --- references, read once for every document of the request -----------------------------------


@dataclass
class _References:
    orders_by_id: dict[int, Any]
    orders_by_number: dict[str, Any]
    po_lines: dict[int, list[Any]]
    items: dict[str, ItemRef]
    gtins: dict[str, str]
    suppliers: dict[str, Any]
    supplier_by_id: dict[int, Any]

    @classmethod
    def load(cls, conn: Connection, actor: Actor, docs: Sequence[AsnDocument]) -> _References:
        lines = [ln for d in docs for ln in d.cmd.lines]
        ids = {ln.purchase_order for ln in lines if isinstance(ln.purchase_order, int)}
        numbers = {ln.purchase_order for ln in lines if isinstance(ln.purchase_order, str)}
        orders: list[Any] = []
        if ids or numbers:
            orders = [
                o
                for o in conn.execute(
                    sa.select(purchase_order).where(
                        sa.or_(
                            purchase_order.c.id.in_(sorted(ids)),
                            purchase_order.c.number.in_(sorted(numbers)),
                        )
                    )
                )
                if actor.can_see_site(o.site_id)
            ]
        po_lines: dict[int, list[Any]] = defaultdict(list)
        if orders:
            stmt = (
                sa.select(purchase_order_line)
                .where(purchase_order_line.c.order_id.in_(sorted(o.id for o in orders)))
                .order_by(purchase_order_line.c.order_id, purchase_order_line.c.line_no)
            )
            if conn.dialect.name == "postgresql":
                # Two notices against one PO line must not both pass the tolerance check on
                # what the other has not committed yet: the lines are locked, in key order.
                stmt = stmt.with_for_update()
            for r in conn.execute(stmt):
                po_lines[r.order_id].append(r)
        gtins = _gtins(conn, docs)
        skus = {ln.sku for ln in lines if ln.sku} | set(gtins.values())
        sup_codes = {d.cmd.supplier for d in docs if d.cmd.supplier}
        sup_ids = {o.supplier_id for o in orders}
        suppliers = conn.execute(
            sa.select(supplier.c.id, supplier.c.code, supplier.c.receipt_tolerance_pct).where(
                sa.or_(supplier.c.code.in_(sorted(sup_codes)), supplier.c.id.in_(sorted(sup_ids)))
            )
        ).all()
        return cls(
            orders_by_id={o.id: o for o in orders},
            orders_by_number={o.number: o for o in orders if o.number is not None},
            po_lines=po_lines,
            items=items_by_sku(conn, skus) if skus else {},
            gtins=gtins,
            suppliers={s.code: s for s in suppliers},
            supplier_by_id={s.id: s for s in suppliers},
        )

    def order(self, ref: int | str) -> Any:
        if isinstance(ref, int):
            return self.orders_by_id.get(ref)
        return self.orders_by_number.get(ref)


def _gtins(conn: Connection, docs: Sequence[AsnDocument]) -> dict[str, str]:
    """GTIN-14 → SKU for every GTIN the documents name (check digits verified first)."""
    wanted: set[str] = set()
    for doc in docs:
        for i, ln in enumerate(doc.cmd.lines):
            if ln.gtin:
                wanted.add(_gtin14(doc, i, ln.gtin))
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(item_gtin.c.gtin, item.c.sku)
        .join(item, item.c.id == item_gtin.c.item_id)
        .where(item_gtin.c.gtin.in_(sorted(wanted)))
    )
    return {r.gtin: r.sku for r in rows}


def _gtin14(doc: AsnDocument, i: int, code: str) -> str:
    try:
        return normalise_gtin(code)
    except ScanError as exc:
        raise ValidationFailed(f"{exc}{doc.source(i)}", field=doc.where(i, "gtin")) from None


# --- one document -------------------------------------------------------------------------------


def _check_document(conn: Connection, actor: Actor, doc: AsnDocument, refs: _References) -> _Header:
    cmd = doc.cmd
    orders = [_order_of(doc, i, ln, refs) for i, ln in enumerate(cmd.lines)]
    st = _site(conn, actor, doc, orders)
    supplier_id = _supplier(doc, orders, refs)
    for i, po in enumerate(orders):
        if po is None:
            continue
        if po.site_id != st.id:
            raise ValidationFailed(
                f"purchase order {po.number or po.id} is for another site{doc.source(i)}",
                field=doc.where(i, "purchase_order"),
            )
        if po.supplier_id != supplier_id:
            raise ValidationFailed(
                f"purchase order {po.number or po.id} is from another supplier{doc.source(i)}",
                field=doc.where(i, "purchase_order"),
            )
    items = [_item(doc, i, ln, refs) for i, ln in enumerate(cmd.lines)]
    units = UnitFactors(conn, [(itm, ln.uom) for itm, ln in zip(items, cmd.lines, strict=True)])
    taken: dict[int, int] = defaultdict(int)
    lines = []
    for i, (ln, po, itm) in enumerate(zip(cmd.lines, orders, items, strict=True)):
        factor = units.factor(itm, ln.uom, field=doc.where(i, "uom"))
        quantity = to_base_units(ln.quantity, factor, field=doc.where(i, "quantity"))
        if quantity > MAX_QUANTITY:
            raise ValidationFailed(
                f"more than {MAX_QUANTITY} base units{doc.source(i)}",
                field=doc.where(i, "quantity"),
            )
        _check_tracking(doc, i, ln, itm, quantity)
        po_line = _po_line(doc, i, ln, po, itm, refs, taken)
        if po_line is not None:
            taken[po_line.id] += quantity
        lines.append(
            _Line(
                index=i,
                item=itm,
                quantity=quantity,
                po_id=po.id if po is not None else None,
                po_line_id=po_line.id if po_line is not None else None,
                lot=ln.lot,
                expiry_date=ln.expiry_date,
                serials=tuple(ln.serials),
                sscc=_sscc(doc, i, ln.sscc),
            )
        )
    return _Header(doc, st.id, supplier_id, lines)


def _order_of(doc: AsnDocument, i: int, ln: AsnLineCreate, refs: _References) -> Any:
    if ln.purchase_order is None:
        return None
    po = refs.order(ln.purchase_order)
    if po is None:
        raise ValidationFailed(
            f"unknown purchase order {ln.purchase_order!r}{doc.source(i)}",
            field=doc.where(i, "purchase_order"),
        )
    if po.status not in RECEIVING_STATES:
        raise ValidationFailed(
            f"purchase order {po.number or po.id} is {po.status}: only a confirmed or partially "
            f"received order can be shipped against{doc.source(i)}",
            field=doc.where(i, "purchase_order"),
        )
    return po


def _site(conn: Connection, actor: Actor, doc: AsnDocument, orders: list[Any]) -> SiteRef:
    if doc.cmd.site is not None:
        return site_in_scope(conn, actor, doc.cmd.site, field=f"{doc.prefix}site")
    po = next((o for o in orders if o is not None), None)
    if po is None:
        raise ValidationFailed(
            "name the receiving site, or purchase orders that say it", field=f"{doc.prefix}site"
        )
    row = conn.execute(
        sa.select(site.c.id, site.c.code, site.c.company_id).where(site.c.id == po.site_id)
    ).one()
    return SiteRef(row.id, row.code, row.company_id)


def _supplier(doc: AsnDocument, orders: list[Any], refs: _References) -> int:
    field = f"{doc.prefix}supplier"
    from_po = next((o.supplier_id for o in orders if o is not None), None)
    code = doc.cmd.supplier
    known = refs.suppliers.get(code) if code else None
    if code and known is None and (doc.origin == "api" or from_po is None):
        raise ValidationFailed(f"unknown supplier {code!r}", field=field)
    if known is not None:
        return int(known.id)
    if from_po is None:
        raise ValidationFailed("name the supplier, or purchase orders that say it", field=field)
    return int(from_po)


def _item(doc: AsnDocument, i: int, ln: AsnLineCreate, refs: _References) -> ItemRef:
    by_gtin = refs.gtins.get(_gtin14(doc, i, ln.gtin)) if ln.gtin else None
    if ln.sku:
        found = refs.items.get(ln.sku)
        if found is None:
            raise ValidationFailed(
                f"unknown sku {ln.sku!r}{doc.source(i)}", field=doc.where(i, "sku")
            )
        if by_gtin is not None and by_gtin != ln.sku:
            raise ValidationFailed(
                f"GTIN {ln.gtin} is {by_gtin}, not {ln.sku}{doc.source(i)}",
                field=doc.where(i, "gtin"),
            )
        return found
    if ln.gtin:
        if by_gtin is None:
            raise ValidationFailed(
                f"unknown GTIN {ln.gtin}{doc.source(i)}", field=doc.where(i, "gtin")
            )
        return refs.items[by_gtin]
    raise ValidationFailed(
        f"a line needs a sku or a gtin{doc.source(i)}", field=doc.where(i, "sku")
    )


def _check_tracking(doc: AsnDocument, i: int, ln: AsnLineCreate, itm: ItemRef, qty: int) -> None:
    """What the receipt of this line will need, asked for now rather than at the dock."""
    where = doc.source(i)
    if itm.lot_tracked and not ln.lot:
        raise ValidationFailed(
            f"{itm.sku} is lot-tracked: name its lot{where}", field=doc.where(i, "lot")
        )
    if not itm.lot_tracked and ln.lot:
        raise ValidationFailed(f"{itm.sku} is not lot-tracked{where}", field=doc.where(i, "lot"))
    if itm.serial_tracked and (len(ln.serials) != qty or len(set(ln.serials)) != qty):
        raise ValidationFailed(
            f"{itm.sku} is serial-tracked: give {qty} distinct serial numbers{where}",
            field=doc.where(i, "serials"),
        )
    if not itm.serial_tracked and ln.serials:
        raise ValidationFailed(
            f"{itm.sku} is not serial-tracked{where}", field=doc.where(i, "serials")
        )


def _po_line(
    doc: AsnDocument,
    i: int,
    ln: AsnLineCreate,
    po: Any,
    itm: ItemRef,
    refs: _References,
    taken: dict[int, int],
) -> Any:
    """The PO line an ASN line ships against: the one named, else the first of the item with
    quantity still open (after the lines before it in this ASN), else its last line."""
    if po is None:
        if ln.po_line is not None:
            raise ValidationFailed(
                f"po_line needs its purchase order{doc.source(i)}",
                field=doc.where(i, "purchase_order"),
            )
        return None
    rows = refs.po_lines.get(po.id, [])
    if ln.po_line is not None:
        row = next((r for r in rows if r.line_no == ln.po_line), None)
        if row is None or row.item_id != itm.id:
            raise ValidationFailed(
                f"purchase order {po.number or po.id} has no line {ln.po_line} for "
                f"{itm.sku}{doc.source(i)}",
                field=doc.where(i, "po_line"),
            )
        return row
    candidates = [r for r in rows if r.item_id == itm.id and not r.closed]
    if not candidates:
        raise ValidationFailed(
            f"{itm.sku} is not open on purchase order {po.number or po.id}{doc.source(i)}",
            field=doc.where(i, "sku"),
        )
    return next(
        (r for r in candidates if r.quantity_received + taken[r.id] < r.quantity), candidates[-1]
    )


def _sscc(doc: AsnDocument, i: int, code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return normalise_sscc(code)
    except ScanError as exc:
        raise ValidationFailed(f"{exc}{doc.source(i)}", field=doc.where(i, "sscc")) from None


# --- checks across documents --------------------------------------------------------------------


def _check_tolerance(conn: Connection, headers: list[_Header], refs: _References) -> None:
    """No PO line announced beyond what is open on it plus the supplier's tolerance; units
    that other open ASNs announce and that are not received yet count as on their way."""
    announcing: dict[int, int] = defaultdict(int)
    last: dict[int, tuple[_Header, int]] = {}  # the line that brings the PO line's total
    for h in headers:
        for ln in h.lines:
            if ln.po_line_id is not None:
                announcing[ln.po_line_id] += ln.quantity
                last[ln.po_line_id] = (h, ln.index)
    if not announcing:
        return
    on_way = dict(
        conn.execute(
            sa.select(
                asn_line.c.purchase_order_line_id,
                sa.func.sum(asn_line.c.quantity - asn_line.c.quantity_received),
            )
            .join(asn, asn.c.id == asn_line.c.asn_id)
            .where(
                asn_line.c.purchase_order_line_id.in_(sorted(announcing)),
                asn.c.status.in_(OPEN_ASN_STATES),
                asn_line.c.quantity_received == 0,
            )
            .group_by(asn_line.c.purchase_order_line_id)
        ).all()
    )
    lines = {r.id: r for rows in refs.po_lines.values() for r in rows}
    for line_id, quantity in sorted(announcing.items()):
        row = lines[line_id]
        h, index = last[line_id]
        po = refs.orders_by_id[row.order_id]
        percent = tolerance.supplier_tolerance(
            refs.supplier_by_id[po.supplier_id].receipt_tolerance_pct
        )
        field = h.doc.where(index, "quantity")
        decision = tolerance.decide_receipt(
            ordered=int(row.quantity) + int(row.over_receipt_allowed or 0),
            received_before=int(row.quantity_received) + int(on_way.get(line_id) or 0),
            receiving=quantity,
            tolerance_percent=percent,
            receiver="asn",
            field=field,
        )
        if not decision.accepted:
            raise tolerance.OverTolerance(
                f"purchase order {po.number or po.id} line {row.line_no}: {decision.message}"
                f"{h.doc.source(index)}",
                field=field,
                quantity_ordered=decision.quantity_ordered,
                quantity_received_before=decision.quantity_received_before,
                quantity_receiving=decision.quantity_receiving,
                quantity_allowed=decision.quantity_allowed,
            )


def _check_unique(conn: Connection, headers: list[_Header]) -> None:
    """A supplier's ASN number and a pallet's SSCC are announced once: the dock scans an SSCC
    to find exactly one pallet."""
    numbers: dict[tuple[int, str], int] = {}
    for k, h in enumerate(headers):
        key = (h.supplier_id, h.doc.cmd.number)
        if key in numbers:
            raise Conflict(f"ASN {key[1]} is in this request twice", field=f"{h.doc.prefix}number")
        numbers[key] = k
    taken = conn.execute(
        sa.select(asn.c.supplier_id, asn.c.number).where(
            asn.c.number.in_(sorted({n for _, n in numbers}))
        )
    ).all()
    for r in taken:
        if (r.supplier_id, r.number) in numbers:
            h = headers[numbers[(r.supplier_id, r.number)]]
            raise Conflict(
                f"ASN {r.number} of this supplier exists already", field=f"{h.doc.prefix}number"
            )
    owner: dict[str, int] = {}
    where: dict[str, tuple[_Header, int]] = {}
    for k, h in enumerate(headers):
        for ln in h.lines:
            if ln.sscc is None:
                continue
            if owner.setdefault(ln.sscc, k) != k:
                raise Conflict(
                    f"SSCC {ln.sscc} is on two ASNs", field=h.doc.where(ln.index, "sscc")
                )
            where.setdefault(ln.sscc, (h, ln.index))
    if not where:
        return
    _lock_codes(conn, sorted(where))
    used = conn.execute(
        sa.select(asn_line.c.sscc).where(asn_line.c.sscc.in_(sorted(where))).limit(1)
    ).scalar()
    if used is not None:
        h, index = where[used]
        raise Conflict(
            f"SSCC {used} was announced already{h.doc.source(index)}",
            field=h.doc.where(index, "sscc"),
        )


def _lock_codes(conn: Connection, codes: list[str]) -> None:
    """On PostgreSQL, serialise the notices that announce the same SSCC until commit
    (transaction advisory locks, taken in key order so that two notices cannot deadlock);
    SQLite already runs one write transaction at a time."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        sa.text(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(c, 856) AS k"
            " FROM unnest(CAST(:codes AS text[])) AS c ORDER BY k) AS keys"
        ),
        {"codes": codes},
    )


# --- reading ------------------------------------------------------------------------------------


def _select() -> sa.Select[Any]:
    return (
        sa.select(asn, site.c.code.label("site"), supplier.c.code.label("supplier"))
        .join(site, site.c.id == asn.c.site_id)
        .join(supplier, supplier.c.id == asn.c.supplier_id)
    )


def _render(conn: Connection, heads: Sequence[Any]) -> list[dict[str, Any]]:
    ids = [h.id for h in heads]
    lines: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    receipts: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        po_line = purchase_order_line.alias("pol")
        rows = conn.execute(
            sa.select(
                asn_line,
                item.c.sku,
                po_line.c.line_no.label("po_line_no"),
                purchase_order.c.id.label("po_id"),
                purchase_order.c.number.label("po_number"),
            )
            .join(item, item.c.id == asn_line.c.item_id)
            .outerjoin(po_line, po_line.c.id == asn_line.c.purchase_order_line_id)
            .outerjoin(purchase_order, purchase_order.c.id == po_line.c.order_id)
            .where(asn_line.c.asn_id.in_(ids))
            .order_by(asn_line.c.asn_id, asn_line.c.line_no)
        )
        for r in rows:
            lines[r.asn_id].append(
                {
                    "id": r.id,
                    "line_no": r.line_no,
                    "purchase_order": r.po_id,
                    "purchase_order_number": r.po_number,
                    "po_line": r.po_line_no,
                    "sku": r.sku,
                    "quantity": r.quantity,
                    "quantity_received": r.quantity_received,
                    "lot": r.lot_code,
                    "expiry_date": r.expiry_date.isoformat() if r.expiry_date else None,
                    "serials": list(r.serials or []),
                    "sscc": r.sscc,
                }
            )
        for asn_id, receipt_id in conn.execute(
            sa.select(receipt.c.asn_id, receipt.c.id)
            .where(receipt.c.asn_id.in_(ids))
            .order_by(receipt.c.id)
        ):
            receipts[asn_id].append(receipt_id)
    return [
        {
            "id": h.id,
            "number": h.number,
            "site": h.site,
            "supplier": h.supplier,
            "status": h.status,
            "source": h.source,
            "ship_date": h.ship_date.isoformat() if h.ship_date else None,
            "expected_date": h.expected_date.isoformat() if h.expected_date else None,
            "created_at": iso_utc(h.created_at),
            "quantity": sum(ln["quantity"] for ln in lines[h.id]),
            "quantity_received": sum(ln["quantity_received"] for ln in lines[h.id]),
            "pallets": _pallets(lines[h.id]),
            "lines": lines[h.id],
            "receipts": receipts[h.id],
        }
        for h in heads
    ]


def _pallets(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each SSCC of the ASN with what travels on it and whether it was received."""
    out: dict[str, dict[str, Any]] = {}
    for ln in lines:
        if ln["sscc"] is None:
            continue
        p = out.setdefault(
            ln["sscc"], {"sscc": ln["sscc"], "lines": 0, "quantity": 0, "received": True}
        )
        p["lines"] += 1
        p["quantity"] += ln["quantity"]
        p["received"] = p["received"] and ln["quantity_received"] > 0
    return list(out.values())


def get_asn(conn: Connection, actor: Actor, asn_id: int) -> dict[str, Any]:
    from stockpilot.shared.errors import NotFound

    row = conn.execute(_select().where(asn.c.id == asn_id)).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"ASN {asn_id} not found", field="asn_id")
    return _render(conn, [row])[0]


def list_asns(
    conn: Connection,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    site_id: int | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    stmt = scoped_page(
        _select(), asn, actor, after_id=after_id, limit=limit, site_id=site_id, status=status
    )
    return _render(conn, conn.execute(stmt).all())
