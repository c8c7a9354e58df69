"""Stock operations that are not part of a larger document: receipts into stock (opening
balances, simple receiving), bin-to-bin moves, status changes and adjustments.

Each call is one business operation: it resolves references in bulk (a constant number of
queries per document), posts all lines through ``post_moves`` and writes one audit row and one
outbox event, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import (
    ItemRef,
    UnitFactors,
    items_by_sku,
    require_reason_code,
    status_allocatable,
)
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.lots import SerialWanted, ensure_lots, new_serials
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import (
    company_id_by_code,
    site_in_scope,
    virtual_location,
)
from stockpilot.persistence import journal
from stockpilot.persistence.tables import location, lot, serial
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.quantities import to_base_units, to_signed_base_units


@dataclass
class StockLine:
    """One line of a stock operation as entered (codes, any unit of measure)."""

    sku: str
    quantity: Any
    location: str | None = None
    to_location: str | None = None
    uom: str | None = None
    lot: str | None = None
    expiry_date: date | None = None
    status: str = "available"
    to_status: str | None = None
    owner: str | None = None
    unit_cost: Decimal | None = None
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PostedDocument:
    document_type: str
    site: str
    lines: int
    quantity: int


class _Resolver:
    """Bulk look-ups for one document at one site."""

    def __init__(self, conn: Connection, actor: Actor, site_code: str) -> None:
        self.conn = conn
        self.site = site_in_scope(conn, actor, site_code)
        self._locations: dict[str, tuple[int, bool]] | None = None
        self._owners: dict[str, int] = {}
        self._statuses: set[str] = set()

    def items(self, lines: Sequence[StockLine]) -> dict[str, ItemRef]:
        found = items_by_sku(self.conn, {ln.sku for ln in lines})
        for i, ln in enumerate(lines):
            if ln.sku not in found:
                raise ValidationFailed(f"unknown sku {ln.sku!r}", field=f"lines[{i}].sku")
        return found

    def location(self, code: str | None, field_name: str) -> int:
        if self._locations is None:
            rows = self.conn.execute(
                sa.select(location.c.code, location.c.id, location.c.is_virtual).where(
                    location.c.site_id == self.site.id
                )
            )
            self._locations = {r.code: (r.id, bool(r.is_virtual)) for r in rows}
        if code is None:
            raise ValidationFailed("location is required", field=field_name)
        found = self._locations.get(code)
        if found is None or found[1]:
            raise ValidationFailed(
                f"unknown location {code!r} at {self.site.code}", field=field_name
            )
        return found[0]

    def owner(self, code: str | None, field_name: str) -> int:
        if code is None:
            return self.site.company_id
        if code not in self._owners:
            self._owners[code] = company_id_by_code(self.conn, code, field=field_name)
        return self._owners[code]

    def status(self, code: str, field_name: str) -> str:
        if code not in self._statuses:
            status_allocatable(self.conn, code, field=field_name)
            self._statuses.add(code)
        return code


def per_base_unit(unit_cost: Decimal | None, factor: Fraction) -> Decimal | None:
    """A cost per entered unit as the cost of one base unit (``factor`` base units each)."""
    if unit_cost is None or factor == 1:
        return unit_cost
    return unit_cost * Decimal(factor.denominator) / Decimal(factor.numerator)


def _quantity(units: UnitFactors, itm: ItemRef, ln: StockLine, i: int) -> int:
    factor = units.factor(itm, ln.uom, field=f"lines[{i}].uom")
    return to_base_units(ln.quantity, factor, field=f"lines[{i}].quantity")


def _lot_ids(conn: Connection, items: dict[str, ItemRef], lines: Sequence[StockLine]) -> list[int]:
    """Each line's lot id, the document's new lots created in bulk (ledger.lots): a lot keeps
    the expiry it was first given, in this document as on earlier receipts."""
    wanted: dict[tuple[int, str], tuple[date | None, str]] = {}
    for i, ln in enumerate(lines):
        itm = items[ln.sku]
        if not itm.lot_tracked:
            if ln.lot:
                raise ValidationFailed(f"{itm.sku} is not lot-tracked", field=f"lines[{i}].lot")
            continue
        if not ln.lot:
            raise ValidationFailed(
                f"{itm.sku} is lot-tracked: a lot is required", field=f"lines[{i}].lot"
            )
        key = (itm.id, ln.lot)
        first = wanted.get(key)
        if first is None or first[0] is None:
            wanted[key] = (ln.expiry_date, f"lines[{i}].lot")
        elif ln.expiry_date is not None and ln.expiry_date != first[0]:
            raise ValidationFailed(
                f"lot {ln.lot} of {itm.sku} already has expiry {first[0]}",
                field=f"lines[{i}].expiry_date",
            )
    ids = ensure_lots(conn, wanted)
    return [ids.get((items[ln.sku].id, ln.lot or ""), 0) for ln in lines]


def receive(
    conn: Connection,
    actor: Actor,
    site_code: str,
    lines: Sequence[StockLine],
    *,
    document_type: str = "receipt",
    document_id: int | None = None,
    reason_code: str = "RECEIPT",
    effective_at: datetime | None = None,
) -> PostedDocument:
    """Receive goods from the site's supplier location into bins (adds to what is there).
    Lots and serial numbers of the whole document are resolved in bulk: a constant number of
    statements for any number of lines."""
    res = _Resolver(conn, actor, site_code)
    items = res.items(lines)
    units = UnitFactors(conn, [(items[ln.sku], ln.uom) for ln in lines])
    lot_ids = _lot_ids(conn, items, lines)
    source = virtual_location(conn, res.site.id, "supplier")
    entered: list[tuple[ItemRef, int, dict[str, Any]]] = []
    serials: list[SerialWanted] = []
    for i, ln in enumerate(lines):
        itm = items[ln.sku]
        qty = _quantity(units, itm, ln, i)
        common: dict[str, Any] = {
            "item_id": itm.id,
            "from_location_id": source,
            "to_location_id": res.location(ln.location, f"lines[{i}].location"),
            "owner_id": res.owner(ln.owner, f"lines[{i}].owner"),
            "lot_id": lot_ids[i],
            "from_status": res.status(ln.status, f"lines[{i}].status"),
            "to_status": ln.status,
            "line_no": i,
            "uom": ln.uom or itm.base_uom,
            "quantity_entered": str(ln.quantity),
            "unit_cost": per_base_unit(ln.unit_cost, units.factor(itm, ln.uom, field="uom")),
        }
        if itm.serial_tracked:
            _check_serials(itm, ln, qty, i)
            serials.extend(
                (
                    itm.id,
                    s,
                    lot_ids[i],
                    source,
                    ln.status,
                    common["owner_id"],
                    f"lines[{i}].serials",
                )
                for s in ln.serials
            )
        elif ln.serials:
            raise ValidationFailed(f"{itm.sku} is not serial-tracked", field=f"lines[{i}].serials")
        entered.append((itm, qty, common))
    serial_ids = new_serials(conn, serials)
    moves: list[MoveLine] = []
    for (itm, qty, common), ln in zip(entered, lines, strict=True):
        if itm.serial_tracked:
            moves.extend(
                MoveLine(quantity=1, serial_id=serial_ids[(itm.id, s)], **common)
                for s in ln.serials
            )
        else:
            moves.append(MoveLine(quantity=qty, **common))
    return _finish(conn, actor, res, moves, document_type, document_id, reason_code, effective_at)


def _check_serials(itm: ItemRef, ln: StockLine, qty: int, i: int) -> None:
    if len(ln.serials) != qty or len(set(ln.serials)) != qty:
        raise ValidationFailed(
            f"{itm.sku} is serial-tracked: give {qty} distinct serial numbers",
            field=f"lines[{i}].serials",
        )


def relocate(
    conn: Connection,
    actor: Actor,
    site_code: str,
    lines: Sequence[StockLine],
    *,
    reason_code: str = "MOVE",
) -> PostedDocument:
    """Bin-to-bin moves and status changes (a status change is a move at the same bin)."""
    res = _Resolver(conn, actor, site_code)
    items = res.items(lines)
    units = UnitFactors(conn, [(items[ln.sku], ln.uom) for ln in lines])
    moves: list[MoveLine] = []
    for i, ln in enumerate(lines):
        itm = items[ln.sku]
        from_loc = res.location(ln.location, f"lines[{i}].location")
        to_loc = res.location(ln.to_location or ln.location, f"lines[{i}].to_location")
        moves.append(
            MoveLine(
                item_id=itm.id,
                from_location_id=from_loc,
                to_location_id=to_loc,
                quantity=_quantity(units, itm, ln, i),
                owner_id=res.owner(ln.owner, f"lines[{i}].owner"),
                lot_id=_existing_lot(conn, itm, ln.lot, i),
                from_status=res.status(ln.status, f"lines[{i}].status"),
                to_status=res.status(ln.to_status or ln.status, f"lines[{i}].to_status"),
                line_no=i,
                uom=ln.uom or itm.base_uom,
                quantity_entered=str(ln.quantity),
                serial_id=_serial_id(conn, itm, ln, i),
            )
        )
    kind = "status_change" if all(m.from_location_id == m.to_location_id for m in moves) else "move"
    return _finish(conn, actor, res, moves, kind, None, reason_code, None)


def adjust(
    conn: Connection,
    actor: Actor,
    site_code: str,
    lines: Sequence[StockLine],
    *,
    reason_code: str,
    document_id: int | None = None,
) -> PostedDocument:
    """Adjust stock against the site's inventory-loss location; quantity is signed.
    ``document_id`` names the adjustment document (adjustments.service) the moves post for."""
    require_reason_code(conn, reason_code, field="reason")
    res = _Resolver(conn, actor, site_code)
    items = res.items(lines)
    units = UnitFactors(conn, [(items[ln.sku], ln.uom) for ln in lines])
    loss = virtual_location(conn, res.site.id, "inventory_loss")
    moves: list[MoveLine] = []
    for i, ln in enumerate(lines):
        itm = items[ln.sku]
        factor = units.factor(itm, ln.uom, field=f"lines[{i}].uom")
        signed = to_signed_base_units(ln.quantity, factor, field=f"lines[{i}].quantity")
        bin_id = res.location(ln.location, f"lines[{i}].location")
        status = res.status(ln.status, f"lines[{i}].status")
        lot_id = _existing_lot(conn, itm, ln.lot, i)
        owner = res.owner(ln.owner, f"lines[{i}].owner")
        src, dst = (loss, bin_id) if signed > 0 else (bin_id, loss)
        moves.append(
            MoveLine(
                item_id=itm.id,
                from_location_id=src,
                to_location_id=dst,
                quantity=abs(signed),
                owner_id=owner,
                lot_id=lot_id,
                from_status=status,
                to_status=status,
                line_no=i,
                uom=ln.uom or itm.base_uom,
                quantity_entered=str(ln.quantity),
            )
        )
    return _finish(conn, actor, res, moves, "adjustment", document_id, reason_code, None)


def _existing_lot(conn: Connection, itm: ItemRef, lot_code: str | None, i: int) -> int:
    if not itm.lot_tracked:
        if lot_code:
            raise ValidationFailed(f"{itm.sku} is not lot-tracked", field=f"lines[{i}].lot")
        return 0
    found = conn.execute(
        sa.select(lot.c.id).where(lot.c.item_id == itm.id, lot.c.lot_code == (lot_code or ""))
    ).scalar()
    if found is None:
        raise ValidationFailed(f"unknown lot {lot_code!r} of {itm.sku}", field=f"lines[{i}].lot")
    return int(found)


def _serial_id(conn: Connection, itm: ItemRef, ln: StockLine, i: int) -> int | None:
    if not itm.serial_tracked:
        return None
    if len(ln.serials) != 1:
        raise ValidationFailed(
            "a serial-tracked move names exactly one serial per line", field=f"lines[{i}].serials"
        )
    found = conn.execute(
        sa.select(serial.c.id).where(
            serial.c.item_id == itm.id, serial.c.serial_number == ln.serials[0]
        )
    ).scalar()
    if found is None:
        raise ValidationFailed(f"unknown serial {ln.serials[0]!r}", field=f"lines[{i}].serials")
    return int(found)


def _finish(
    conn: Connection,
    actor: Actor,
    res: _Resolver,
    moves: list[MoveLine],
    document_type: str,
    document_id: int | None,
    reason_code: str,
    effective_at: datetime | None,
) -> PostedDocument:
    post_moves(
        conn,
        moves,
        PostingContext(
            document_type=document_type,
            document_id=document_id,
            user_id=actor.user_id,
            reason_code=reason_code,
            effective_at=effective_at,
        ),
    )
    total = sum(m.quantity for m in moves)
    journal.record(
        conn,
        actor,
        action=f"stock.{document_type}",
        entity_type=document_type,
        entity_id=document_id,
        site_id=res.site.id,
        reason=reason_code,
        detail={"site": res.site.code, "lines": len(moves), "quantity": total},
        topic=f"stock.{document_type}.posted",
    )
    return PostedDocument(document_type, res.site.code, len(moves), total)
