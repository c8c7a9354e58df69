"""Export master data, stock and moves as CSV, in the columns the import reads back.

Rows stream from the database to the writer (no whole table in memory). ``site`` limits the
export of locations, stock and moves to one site.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.importing.locations import LOCATION_OPTIONAL, LOCATION_REQUIRED
from stockpilot.importing.masterdata import (
    CUSTOMER_OPTIONAL,
    CUSTOMER_REQUIRED,
    ITEM_OPTIONAL,
    ITEM_REQUIRED,
    SUPPLIER_OPTIONAL,
    SUPPLIER_REQUIRED,
)
from stockpilot.ledger.moves import moves_view
from stockpilot.persistence.tables import (
    balance,
    company,
    customer,
    item,
    item_uom,
    location,
    lot,
    serial,
    site,
    supplier,
    zone,
)
from stockpilot.shared.errors import ValidationFailed

STOCK_COLUMNS = (
    "site",
    "location",
    "sku",
    "lot",
    "expiry_date",
    "status",
    "owner",
    "quantity_on_hand",
    "quantity_allocated",
    "serials",
)
MOVE_COLUMNS = (
    "id",
    "effective_at",
    "recorded_at",
    "document_type",
    "document_id",
    "line_no",
    "sku",
    "from_site",
    "from_location",
    "to_site",
    "to_location",
    "lot",
    "from_status",
    "to_status",
    "owner",
    "quantity",
    "uom",
    "quantity_entered",
    "unit_cost",
    "reason_code",
    "user_id",
)
SITE_FILTERED = ("locations", "stock", "moves")


def cell(value: Any) -> str:
    """One value as CSV text that the import parses back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _factor(numerator: int, denominator: int) -> str:
    # Factors were entered as decimals, so the fraction always has a finite decimal form.
    return cell(Decimal(numerator) / Decimal(denominator))


def _items(conn: Connection, _site: str | None) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
    columns = ITEM_REQUIRED + ITEM_OPTIONAL
    units: dict[int, list[str]] = {}
    for r in conn.execute(sa.select(item_uom).order_by(item_uom.c.item_id, item_uom.c.uom)):
        units.setdefault(r.item_id, []).append(
            f"{r.uom}={_factor(r.factor_numerator, r.factor_denominator)}"
        )
    plain = [c for c in columns if c not in ("supplier", "units")]
    stmt = (
        sa.select(item.c.id, *(item.c[c] for c in plain), supplier.c.code.label("supplier"))
        .outerjoin(supplier, supplier.c.id == item.c.supplier_id)
        .order_by(item.c.sku)
    )
    rows = (
        [r._mapping[c] if c != "units" else ";".join(units.get(r.id, [])) for c in columns]
        for r in _stream(conn, stmt)
    )
    return columns, rows


def _parties(table: sa.Table, columns: Sequence[str]) -> Callable[..., Any]:
    def export(conn: Connection, _site: str | None) -> tuple[Sequence[str], Iterable[Any]]:
        stmt = sa.select(*(table.c[c] for c in columns)).order_by(table.c.code)
        return columns, (tuple(r) for r in _stream(conn, stmt))

    return export


def _locations(conn: Connection, site_code: str | None) -> tuple[Sequence[str], Iterable[Any]]:
    columns = LOCATION_REQUIRED + LOCATION_OPTIONAL
    stmt = (
        sa.select(
            site.c.code.label("site"),
            location.c.code,
            location.c.kind.label("type"),
            zone.c.code.label("zone"),
            *(location.c[c] for c in LOCATION_OPTIONAL if c != "zone"),
        )
        .join(site, site.c.id == location.c.site_id)
        .outerjoin(zone, zone.c.id == location.c.zone_id)
        .where(location.c.is_virtual.is_(False))
        .order_by(site.c.code, location.c.code)
    )
    if site_code:
        stmt = stmt.where(site.c.code == site_code)
    return columns, ([r._mapping[c] for c in columns] for r in _stream(conn, stmt))


def _stock(conn: Connection, site_code: str | None) -> tuple[Sequence[str], Iterable[Any]]:
    stmt = (
        sa.select(
            site.c.code.label("site"),
            location.c.code.label("location"),
            item.c.sku,
            lot.c.lot_code.label("lot"),
            lot.c.expiry_date,
            balance.c.status,
            company.c.code.label("owner"),
            balance.c.quantity_on_hand,
            balance.c.quantity_allocated,
            *(balance.c[c] for c in _KEY),
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(site, site.c.id == location.c.site_id)
        .join(item, item.c.id == balance.c.item_id)
        .join(company, company.c.id == balance.c.owner_id)
        .outerjoin(lot, lot.c.id == balance.c.lot_id)
        .where(balance.c.is_virtual.is_(False), balance.c.quantity_on_hand > 0)
        .order_by(site.c.code, location.c.code, item.c.sku, balance.c.lot_id, balance.c.status)
    )
    if site_code:
        stmt = stmt.where(site.c.code == site_code)
    serials = _serials_in_stock(conn)
    rows = (
        (*r[: len(STOCK_COLUMNS) - 1], ";".join(serials.get(tuple(r[-len(_KEY) :]), ())))
        for r in _stream(conn, stmt)
    )
    return STOCK_COLUMNS, rows


_KEY = ("item_id", "location_id", "lot_id", "status", "owner_id")


def _serials_in_stock(conn: Connection) -> dict[tuple[Any, ...], list[str]]:
    """Serial numbers per stock key, so serial-tracked stock can be imported back."""
    found: dict[tuple[Any, ...], list[str]] = {}
    stmt = (
        sa.select(*(serial.c[c] for c in _KEY), serial.c.serial_number)
        .where(serial.c.in_stock.is_(True))
        .order_by(serial.c.serial_number)
    )
    for r in conn.execute(stmt):
        found.setdefault(tuple(r[:5]), []).append(r.serial_number)
    return found


def _moves(conn: Connection, site_code: str | None) -> tuple[Sequence[str], Iterable[Any]]:
    view = moves_view()
    if site_code:
        found = conn.execute(sa.select(site.c.id).where(site.c.code == site_code)).scalar()
        view = view.in_sites([int(found) if found is not None else -1])
    rows = _stream(conn, view.stmt)
    return MOVE_COLUMNS, (tuple(r._mapping[c] for c in MOVE_COLUMNS) for r in rows)


def _stream(conn: Connection, stmt: sa.Select[Any]) -> Iterable[Any]:
    yield from conn.execution_options(yield_per=2000).execute(stmt)


_Exporter = Callable[[Connection, str | None], tuple[Sequence[str], Iterable[Sequence[Any]]]]
EXPORTERS: dict[str, _Exporter] = {
    "items": _items,
    "customers": _parties(customer, CUSTOMER_REQUIRED + CUSTOMER_OPTIONAL),
    "suppliers": _parties(supplier, SUPPLIER_REQUIRED + SUPPLIER_OPTIONAL),
    "locations": _locations,
    "stock": _stock,
    "moves": _moves,
}


def export_csv(conn: Connection, kind: str, out: IO[str], site_code: str | None = None) -> int:
    """Write ``kind`` as CSV to ``out``; returns the number of data rows written."""
    if kind not in EXPORTERS:
        raise ValidationFailed(
            f"cannot export {kind!r}: choose one of {', '.join(EXPORTERS)}", field="kind"
        )
    if site_code and kind not in SITE_FILTERED:
        raise ValidationFailed(f"--site applies to {', '.join(SITE_FILTERED)}", field="site")
    if (
        site_code
        and conn.execute(sa.select(site.c.id).where(site.c.code == site_code)).first() is None
    ):
        raise ValidationFailed(f"unknown site {site_code!r}", field="site")
    columns, rows = EXPORTERS[kind](conn, site_code)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    written = 0
    for row in rows:
        writer.writerow([cell(v) for v in row])
        written += 1
    return written
