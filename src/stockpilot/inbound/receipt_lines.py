"""Receipt lines resolved in bulk: the items, units, bins, owners, statuses and lots of a whole
document in a constant number of statements, and each quantity converted exactly to base units.

Every receipt goes through here — an API receipt (its scans and ASN lines merged first), an
opening-balance import (one site's rows of a CSV file) — so a refusal always names the line
(``lines[i].column``) and the same rules hold whichever way goods come in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import ItemRef, status_allocatable
from stockpilot.ledger.lots import ensure_lots
from stockpilot.network.service import SiteRef
from stockpilot.persistence.tables import company, item, item_uom, location, stock_status
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import MAX_QUANTITY
from stockpilot.shared.quantities import to_base_units

# Values per IN list: far below SQLite's 32,766 bound variables, whatever the file's size.
CHUNK = 5000


@dataclass(frozen=True, slots=True)
class InboundLine:
    """One receipt line as entered and already parsed: codes, the quantity in its unit."""

    sku: str
    quantity: Decimal | int
    uom: str | None = None
    location: str | None = None
    """A bin to receive straight into; None: the site's dock (a putaway task follows)."""
    lot: str | None = None
    expiry_date: date | None = None
    status: str = "available"
    owner: str | None = None
    unit_cost: Decimal | None = None
    serials: tuple[str, ...] = ()
    purchase_order_line: int | None = None
    asn_line_id: int | None = None
    sscc: str | None = None


@dataclass(slots=True)
class ResolvedLine:
    """A receipt line in ids and base units, ready to post. ``index`` is the line's place in
    the list it was resolved from (what a refusal names)."""

    index: int
    item: ItemRef
    quantity: int
    entered: str
    uom: str
    lot_code: str | None
    expiry_date: date | None
    lot_id: int
    status: str
    owner_id: int
    unit_cost: Decimal | None
    serials: tuple[str, ...]
    location_id: int | None
    po_line_no: int | None
    asn_line_id: int | None
    sscc: str | None
    source_status: str | None = None
    """The status the goods leave their source in (a transfer's in-transit stock); None: the
    line's own status (a supplier's goods arrive in the status they are received into)."""

    @property
    def key(self) -> tuple[int, int, int, str, int]:
        """The stock key it lands on (the dock as 0): the order concurrent documents lock in."""
        return (self.item.id, self.location_id or 0, self.lot_id, self.status, self.owner_id)


def resolve_lines(
    conn: Connection,
    st: SiteRef,
    lines: Sequence[InboundLine],
    *,
    items: Mapping[str, ItemRef] | None = None,
) -> list[ResolvedLine]:
    """Look every reference of ``lines`` up at site ``st`` (a handful of queries per 5,000
    distinct values) and check each line: known SKU, unit and bin, whole base units, lot and
    serials as the item's tracking asks, known status and owner. Lots are created on first
    receipt (``ledger.lots.ensure_lots``). ``items``: the SKUs already looked up (a file of
    several sites reads its items once)."""
    if items is None:
        items = find_items(conn, {ln.sku for ln in lines})
    factors = _factors(conn, items, lines)
    bins = _bins(conn, st.id, {ln.location for ln in lines if ln.location is not None})
    owners = _owners(conn, st, {ln.owner for ln in lines if ln.owner})
    statuses = set(conn.execute(sa.select(stock_status.c.code)).scalars())
    out: list[ResolvedLine] = []
    append = out.append
    for i, ln in enumerate(lines):  # once per line of every receipt: no queries, few objects
        itm = items.get(ln.sku)
        if itm is None:
            raise ValidationFailed(f"unknown sku {ln.sku!r}", field=f"lines[{i}].sku")
        uom = ln.uom
        unit_cost = ln.unit_cost
        if uom is None or uom == itm.base_uom:
            quantity = _base_units(ln.quantity, None, i)
            uom = itm.base_uom
        else:
            factor = factors.get((itm.id, uom))
            if factor is None:
                raise ValidationFailed(
                    f"{itm.sku} has no unit of measure {uom!r}", field=f"lines[{i}].uom"
                )
            quantity = _base_units(ln.quantity, factor, i)
            if unit_cost is not None:  # a cost per entered unit: the cost of one base unit
                unit_cost = unit_cost * factor.denominator / factor.numerator
        if ln.lot or itm.lot_tracked or ln.serials or itm.serial_tracked:
            _check_tracking(itm, ln, quantity, i)
        location_id = None
        if ln.location is not None:
            location_id = bins.get(ln.location)
            if location_id is None:
                raise ValidationFailed(
                    f"unknown location {ln.location!r} at {st.code}",
                    field=f"lines[{i}].location",
                )
        if ln.status not in statuses:
            status_allocatable(conn, ln.status, field=f"lines[{i}].status")
        owner_id = owners.get(ln.owner) if ln.owner else st.company_id
        if owner_id is None:
            raise ValidationFailed(f"unknown owner {ln.owner!r}", field=f"lines[{i}].owner")
        append(
            ResolvedLine(
                i, itm, quantity, str(ln.quantity), uom, ln.lot, ln.expiry_date, 0, ln.status,
                owner_id, unit_cost, ln.serials, location_id, ln.purchase_order_line,
                ln.asn_line_id, ln.sscc,
            )
        )  # fmt: skip
    _lots(conn, out)
    return out


def _base_units(quantity: Decimal | int, factor: Fraction | None, i: int) -> int:
    """Whole base units of ``quantity`` (worth ``factor`` each; None: the base unit itself).

    The common case — a whole number in the base unit — is a type test or one exact integer
    ratio; every other case, and every refusal, is ``shared.quantities.to_base_units``'s."""
    if factor is None:
        if type(quantity) is int:
            whole: int | None = quantity
        else:
            numerator, denominator = quantity.as_integer_ratio()
            whole = numerator if denominator == 1 else None
        if whole is not None and 0 < whole <= MAX_QUANTITY:
            return whole
    return to_base_units(quantity, factor or Fraction(1), field=f"lines[{i}].quantity")


def _check_tracking(itm: ItemRef, ln: InboundLine, quantity: int, i: int) -> None:
    if itm.lot_tracked and not ln.lot:
        raise ValidationFailed(
            f"{itm.sku} is lot-tracked: a lot is required", field=f"lines[{i}].lot"
        )
    if not itm.lot_tracked and ln.lot:
        raise ValidationFailed(f"{itm.sku} is not lot-tracked", field=f"lines[{i}].lot")
    if itm.serial_tracked:
        if len(ln.serials) != quantity or len(set(ln.serials)) != quantity:
            raise ValidationFailed(
                f"{itm.sku} is serial-tracked: give {quantity} distinct serial numbers",
                field=f"lines[{i}].serials",
            )
    elif ln.serials:
        raise ValidationFailed(f"{itm.sku} is not serial-tracked", field=f"lines[{i}].serials")


def _lots(conn: Connection, lines: Sequence[ResolvedLine]) -> None:
    """Give each lot-tracked line its lot id, creating the lots on first receipt (a lot keeps
    the expiry it was first given: the first line that names one is blamed for a change)."""
    wanted: dict[tuple[int, str], tuple[date | None, str]] = {}
    tracked = [ln for ln in lines if ln.item.lot_tracked and ln.lot_code]
    for ln in tracked:
        assert ln.lot_code is not None
        key = (ln.item.id, ln.lot_code)
        expiry = ln.expiry_date
        previous = wanted.get(key)
        if previous is None or (previous[0] is None and expiry is not None):
            wanted[key] = (expiry, f"lines[{ln.index}].lot")
        elif expiry is not None and previous[0] != expiry:
            raise ValidationFailed(
                f"lot {ln.lot_code} has expiry {previous[0]}",
                field=f"lines[{ln.index}].expiry_date",
            )
    if not wanted:
        return
    ids = ensure_lots(conn, wanted)
    for ln in tracked:
        assert ln.lot_code is not None
        ln.lot_id = ids[(ln.item.id, ln.lot_code)]


def find_items(conn: Connection, skus: Iterable[str]) -> dict[str, ItemRef]:
    """The items of ``skus`` that exist (one query per 5,000)."""
    found: dict[str, ItemRef] = {}
    for part in _chunks(sorted(set(skus))):
        rows = conn.execute(
            sa.select(
                item.c.id,
                item.c.sku,
                item.c.base_uom,
                item.c.lot_tracked,
                item.c.serial_tracked,
                item.c.shelf_life_days,
            ).where(item.c.sku.in_(part))
        )
        for i, sku, uom, lot_tracked, serial_tracked, shelf_life in rows:
            found[sku] = ItemRef(
                int(i), sku, uom, bool(lot_tracked), bool(serial_tracked), shelf_life
            )
    return found


def _factors(
    conn: Connection, items: Mapping[str, ItemRef], lines: Sequence[InboundLine]
) -> dict[tuple[int, str], Fraction]:
    """The unit factors the lines need beyond their items' base units (one query per 5,000
    items)."""
    pairs = {
        (items[ln.sku].id, ln.uom)
        for ln in lines
        if ln.uom is not None and ln.sku in items and ln.uom != items[ln.sku].base_uom
    }
    found: dict[tuple[int, str], Fraction] = {}
    uoms = sorted({u for _, u in pairs})
    for part in _chunks(sorted({i for i, _ in pairs})):
        rows = conn.execute(
            sa.select(
                item_uom.c.item_id,
                item_uom.c.uom,
                item_uom.c.factor_numerator,
                item_uom.c.factor_denominator,
            ).where(item_uom.c.item_id.in_(part), item_uom.c.uom.in_(uoms))
        )
        for r in rows:
            found[(int(r.item_id), r.uom)] = Fraction(r.factor_numerator, r.factor_denominator)
    return found


def _bins(conn: Connection, site_id: int, codes: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks(sorted(codes)):
        rows = conn.execute(
            sa.select(location.c.code, location.c.id).where(
                location.c.site_id == site_id,
                location.c.code.in_(part),
                location.c.is_virtual.is_(False),
            )
        )
        found.update((r.code, int(r.id)) for r in rows)
    return found


def _owners(conn: Connection, st: SiteRef, codes: set[str]) -> dict[str | None, int]:
    if not codes:
        return {}
    rows = conn.execute(
        sa.select(company.c.code, company.c.id).where(company.c.code.in_(sorted(codes)))
    )
    return {r.code: int(r.id) for r in rows}


def _chunks(values: list[str] | list[int]) -> Iterable[list[str] | list[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
