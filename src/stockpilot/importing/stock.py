"""Import opening balances: each row is a receipt from the site's supplier location into a bin.

Rows add to what is there. References (sites, bins, items, units, lots, statuses, owners) are
resolved in bulk and the moves are posted through ``post_moves`` in chunks of a few thousand
lines, so a file of any size costs a constant number of statements per chunk. Serial-tracked
rows (which carry their serial numbers) go through ``operations.receive``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from stockpilot.importing.bulk import CHUNK, ids_by
from stockpilot.importing.csvrows import CsvRows, as_row_error, parse_list, validate
from stockpilot.importing.masterdata import ImportSummary
from stockpilot.ledger import operations
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import virtual_code
from stockpilot.persistence import journal
from stockpilot.persistence.tables import company, item, item_uom, location, lot, site, stock_status
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import RowError, StockpilotError, ValidationFailed
from stockpilot.shared.fields import IsoDate, Money, Quantity
from stockpilot.shared.quantities import to_base_units
from stockpilot.shared.sql import insert_ignore

STOCK_REQUIRED = ("site", "location", "sku", "quantity")
STOCK_OPTIONAL = ("lot", "expiry_date", "status", "unit_cost", "uom", "owner", "serials")
# An export of stock reads back as opening balances: on-hand is the quantity; reservations
# belong to orders, not to the stock file, so quantity_allocated is informational only.
STOCK_ALIASES = {"quantity_on_hand": "quantity"}
STOCK_IGNORED = ("quantity_allocated",)
OPENING = "opening"
# Lines per posting call, all inside the import's one transaction: big enough that the fixed
# statements of a posting are amortised, small enough to keep each statement's arrays modest.
POSTING_CHUNK = 5000


class StockRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    site: str = Field(min_length=1, max_length=40)
    location: str = Field(min_length=1, max_length=60)
    sku: str = Field(min_length=1, max_length=60)
    quantity: Quantity
    lot: str | None = Field(default=None, max_length=60)
    expiry_date: IsoDate | None = None
    status: str = Field(default="available", max_length=20)
    unit_cost: Money | None = None
    uom: str | None = Field(default=None, max_length=20)
    owner: str | None = Field(default=None, max_length=40)
    serials: str | None = None


def validate_stock(data: CsvRows) -> list[StockRow]:
    return [validate(StockRow, data.name, n, cells) for n, cells in data.numbered()]


class _Refs:
    """Every reference of the file, looked up with a handful of queries."""

    def __init__(self, conn: Connection, file: str, rows: Sequence[StockRow]) -> None:
        self.file = file
        sites = ids_by(conn, site.c.code, {r.site for r in rows}, site.c.company_id)
        self.sites = {code: (int(r.id), int(r.company_id)) for code, r in sites.items()}
        site_ids = sorted(s for s, _ in self.sites.values())
        self.bins: dict[tuple[int, str], tuple[int, bool]] = {
            (int(r.site_id), r.code): (int(r.id), bool(r.is_virtual))
            for r in conn.execute(
                sa.select(
                    location.c.site_id, location.c.code, location.c.id, location.c.is_virtual
                ).where(location.c.site_id.in_(site_ids))
            )
        }
        self.items = ids_by(
            conn, item.c.sku, {r.sku for r in rows}, item.c.base_uom, item.c.lot_tracked,
            item.c.serial_tracked,
        )  # fmt: skip
        self.statuses = set(conn.execute(sa.select(stock_status.c.code)).scalars())
        self.owners = {
            r.code: int(r.id) for r in conn.execute(sa.select(company.c.code, company.c.id))
        }
        item_ids = sorted(int(r.id) for r in self.items.values())
        self.factors: dict[tuple[int, str], Fraction] = {}
        for start in range(0, len(item_ids), CHUNK):
            for r in conn.execute(
                sa.select(item_uom).where(item_uom.c.item_id.in_(item_ids[start : start + CHUNK]))
            ):
                self.factors[(int(r.item_id), r.uom)] = Fraction(
                    r.factor_numerator, r.factor_denominator
                )

    def error(self, number: int, column: str, message: str) -> RowError:
        return RowError(self.file, number, column, message)

    def site(self, number: int, row: StockRow) -> tuple[int, int]:
        if row.site not in self.sites:
            raise self.error(number, "site", f"unknown site {row.site!r}")
        return self.sites[row.site]

    def bin(self, number: int, row: StockRow, site_id: int) -> int:
        found = self.bins.get((site_id, row.location))
        if found is None or found[1]:
            raise self.error(number, "location", f"unknown bin {row.location!r} at {row.site}")
        return found[0]

    def supplier_location(self, site_id: int) -> int:
        return self.bins[(site_id, virtual_code("supplier"))][0]

    def quantity(self, number: int, row: StockRow, itm: Any) -> int:
        factor = Fraction(1)
        if row.uom is not None and row.uom != itm.base_uom:
            if (itm.id, row.uom) not in self.factors:
                raise self.error(number, "uom", f"{row.sku} has no unit of measure {row.uom!r}")
            factor = self.factors[(itm.id, row.uom)]
        try:
            return to_base_units(row.quantity, factor, field="quantity")
        except ValidationFailed as exc:
            raise as_row_error(exc, self.file, number, "quantity") from None


def _lot_ids(conn: Connection, refs: _Refs, rows: Sequence[StockRow]) -> dict[tuple[int, str], int]:
    """Create the lots of the file in bulk; a lot keeps the expiry date it was first given."""
    wanted: dict[tuple[int, str], tuple[date | None, int]] = {}
    for number, row in enumerate(rows, start=1):
        itm = refs.items[row.sku]
        if not itm.lot_tracked:
            if row.lot:
                raise refs.error(number, "lot", f"{row.sku} is not lot-tracked")
            continue
        if not row.lot:
            raise refs.error(number, "lot", f"{row.sku} is lot-tracked: a lot is required")
        key = (int(itm.id), row.lot)
        previous = wanted.setdefault(key, (row.expiry_date, number))
        if previous[0] != row.expiry_date and None not in (previous[0], row.expiry_date):
            raise refs.error(number, "expiry_date", f"lot {row.lot} has expiry {previous[0]}")
    now = utcnow()
    new = [
        {"item_id": i, "lot_code": c, "expiry_date": e, "created_at": now}
        for (i, c), (e, _) in sorted(wanted.items())
    ]
    for start in range(0, len(new), CHUNK):
        insert_ignore(conn, lot, new[start : start + CHUNK])
    found: dict[tuple[int, str], int] = {}
    item_ids = sorted({i for i, _ in wanted})
    for start in range(0, len(item_ids), CHUNK):
        stmt = sa.select(lot.c.item_id, lot.c.lot_code, lot.c.id, lot.c.expiry_date).where(
            lot.c.item_id.in_(item_ids[start : start + CHUNK])
        )
        for r in conn.execute(stmt):
            key = (int(r.item_id), r.lot_code)
            if key not in wanted:
                continue
            expiry, number = wanted[key]
            if expiry is not None and r.expiry_date is not None and r.expiry_date != expiry:
                raise refs.error(number, "expiry_date", f"lot {key[1]} has expiry {r.expiry_date}")
            found[key] = int(r.id)
    return found


def write_stock(
    conn: Connection, actor: Actor, data: CsvRows, rows: list[StockRow]
) -> ImportSummary:
    refs = _Refs(conn, data.name, rows)
    for number, row in enumerate(rows, start=1):
        if row.sku not in refs.items:
            raise refs.error(number, "sku", f"unknown sku {row.sku!r}")
    lots = _lot_ids(conn, refs, rows)
    moves: list[MoveLine] = []
    serial_rows: dict[str, list[tuple[int, StockRow]]] = defaultdict(list)
    for number, row in enumerate(rows, start=1):
        site_id, company_id = refs.site(number, row)
        itm = refs.items[row.sku]
        bin_id = refs.bin(number, row, site_id)
        if row.status not in refs.statuses:
            raise refs.error(number, "status", f"unknown status {row.status!r}")
        if row.owner is not None and row.owner not in refs.owners:
            raise refs.error(number, "owner", f"unknown owner {row.owner!r}")
        quantity = refs.quantity(number, row, itm)
        if itm.serial_tracked:
            serial_rows[row.site].append((number, row))
            continue
        if row.serials:
            raise refs.error(number, "serials", f"{row.sku} is not serial-tracked")
        moves.append(
            MoveLine(
                item_id=int(itm.id),
                from_location_id=refs.supplier_location(site_id),
                to_location_id=bin_id,
                quantity=quantity,
                owner_id=refs.owners[row.owner] if row.owner else company_id,
                lot_id=lots.get((int(itm.id), row.lot or ""), 0),
                from_status=row.status,
                to_status=row.status,
                line_no=number,
                uom=row.uom or itm.base_uom,
                quantity_entered=str(row.quantity),
                unit_cost=row.unit_cost,
            )
        )
    total = post_opening(conn, actor, moves)
    for site_code, numbered in serial_rows.items():
        total += _receive_serials(conn, actor, data.name, site_code, numbered)
    return ImportSummary("stock", len(rows), quantity=total)


def post_opening(conn: Connection, actor: Actor, moves: list[MoveLine]) -> int:
    """Post opening-balance receipts in chunks (key order, so concurrent imports lock rows in
    one order) with one audit row and event per chunk. Returns the base units received."""
    ordered = sorted(moves, key=lambda m: tuple(m.to_key))
    total = 0
    ctx = PostingContext(document_type=OPENING, user_id=actor.user_id, reason_code="OPENING")
    for start in range(0, len(ordered), POSTING_CHUNK):
        part = ordered[start : start + POSTING_CHUNK]
        post_moves(conn, part, ctx)
        quantity = sum(m.quantity for m in part)
        total += quantity
        journal.record(
            conn,
            actor,
            action=f"stock.{OPENING}",
            entity_type=OPENING,
            entity_id=None,
            reason="OPENING",
            detail={"lines": len(part), "quantity": quantity},
            topic=f"stock.{OPENING}.posted",
        )
    return total


_LINE = re.compile(r"^lines\[(\d+)\]\.?(\w*)")


def _receive_serials(
    conn: Connection, actor: Actor, file: str, site_code: str, numbered: list[tuple[int, StockRow]]
) -> int:
    lines = [
        operations.StockLine(
            sku=row.sku,
            quantity=row.quantity,
            location=row.location,
            uom=row.uom,
            lot=row.lot,
            expiry_date=row.expiry_date,
            status=row.status,
            owner=row.owner,
            unit_cost=row.unit_cost,
            serials=parse_list(row.serials),
        )
        for _, row in numbered
    ]
    try:
        posted = operations.receive(
            conn, actor, site_code, lines, document_type=OPENING, reason_code="OPENING"
        )
    except StockpilotError as exc:
        match = _LINE.match(exc.field or "")
        if match is None:
            raise
        number = numbered[int(match.group(1))][0]
        raise as_row_error(exc, file, number, match.group(2) or "quantity") from None
    return posted.quantity
