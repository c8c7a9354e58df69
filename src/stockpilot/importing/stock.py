"""Import opening balances: the rows of a file are receipts through the one receiving path.

Each site's rows become receipt documents of up to ``POSTING_CHUNK`` lines, straight into the
bins they name (no putaway), posted by ``inbound.receiving.post_receipt`` with reason OPENING —
the same resolution (``inbound.receipt_lines``) and the same posting as an API receipt, so lots,
serials, units and statuses follow the same rules. Rows add to what is there. A refusal names
the file's row and column, and the whole file is refused (one transaction).

A file of any size costs a constant number of statements per chunk. Rows are checked cell by
cell by a plain parser that accepts only values the row model certainly accepts; any other row
is validated by the model itself, whose message the refusal carries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from stockpilot.importing.csvrows import CsvRows, as_row_error, chunks, parse_list, validate
from stockpilot.importing.masterdata import ImportSummary
from stockpilot.inbound.receipt_lines import InboundLine, find_items, resolve_lines
from stockpilot.inbound.receiving import ReceiptHeader, post_receipt
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import site_in_scope
from stockpilot.persistence import journal
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import RowError, StockpilotError
from stockpilot.shared.fields import IsoDate, Money, Quantity

STOCK_REQUIRED = ("site", "location", "sku", "quantity")
STOCK_OPTIONAL = ("lot", "expiry_date", "status", "unit_cost", "uom", "owner", "serials")
# An export of stock reads back as opening balances: on-hand is the quantity; reservations
# belong to orders, not to the stock file, so quantity_allocated is informational only.
STOCK_ALIASES = {"quantity_on_hand": "quantity"}
STOCK_IGNORED = ("quantity_allocated",)
OPENING = "opening"
# Lines per receipt document, all inside the import's one transaction: big enough that the
# fixed statements of a posting are amortised, small enough to keep each statement's arrays
# modest.
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


StockLine = tuple[int, str, InboundLine]
"""``(row number, site code, line)``: one validated row of the file."""


def validate_stock(data: CsvRows) -> list[StockLine]:
    out: list[StockLine] = []
    append = out.append
    for number, cells in data.numbered():
        parsed = _plain(cells)
        if parsed is None:  # something unusual: the model says what (or accepts it)
            row = validate(StockRow, data.name, number, cells)
            parsed = row.site, _line(row)
        append((number, *parsed))
    return out


# What the row model accepts, in a form that is quick to test (stricter where that is simpler:
# every value accepted here is accepted by StockRow with the same meaning).
_QUANTITY = re.compile(r"(?=[0.]*[1-9])[0-9]{1,15}(\.[0-9]{1,9})?", re.ASCII)
_MONEY = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_OPTIONAL_LENGTHS = (("lot", 60), ("status", 20), ("uom", 20), ("owner", 40))


def _plain(cells: dict[str, str]) -> tuple[str, InboundLine] | None:
    """The row's site and line when every cell is plainly valid, else None. Cells arrive
    stripped and non-empty (csvrows.read_csv), and only of the file's known columns. The
    usual opening balance (site, location, sku, a whole quantity, perhaps a unit cost) is
    decided in a few tests: this runs once per row of files of hundreds of thousands."""
    try:
        site_code, bin_code, sku, text = (
            cells["site"], cells["location"], cells["sku"], cells["quantity"]
        )  # fmt: skip
    except KeyError:
        return None
    if len(site_code) > 40 or len(bin_code) > 60 or len(sku) > 60:
        return None
    quantity: int | Decimal
    if text.isdigit() and text.isascii() and len(text) <= 15:
        quantity = int(text)  # an int, as Decimal(text) would say it: "007" is 7
        if not quantity:
            return None
    elif _QUANTITY.fullmatch(text) is not None:
        quantity = Decimal(text)
    else:
        return None
    count = len(cells)
    if count == 4:
        return site_code, InboundLine(sku, quantity, None, bin_code)
    cost = cells.get("unit_cost")
    if cost is not None and _MONEY.fullmatch(cost) is None:
        return None
    if count == 5 and cost is not None:
        return site_code, InboundLine(sku, quantity, None, bin_code, unit_cost=Decimal(cost))
    for name, longest in _OPTIONAL_LENGTHS:
        value = cells.get(name)
        if value is not None and len(value) > longest:
            return None
    expiry: date | None = None
    if "expiry_date" in cells:
        if _DATE.fullmatch(cells["expiry_date"]) is None:
            return None
        try:
            expiry = date.fromisoformat(cells["expiry_date"])
        except ValueError:
            return None
    line = InboundLine(
        sku=sku,
        quantity=quantity,
        uom=cells.get("uom"),
        location=bin_code,
        lot=cells.get("lot"),
        expiry_date=expiry,
        status=cells.get("status", "available"),
        owner=cells.get("owner"),
        unit_cost=None if cost is None else Decimal(cost),
        serials=tuple(parse_list(cells.get("serials"))),
    )
    return site_code, line


def _line(row: StockRow) -> InboundLine:
    return InboundLine(
        sku=row.sku,
        quantity=row.quantity,
        uom=row.uom,
        location=row.location,
        lot=row.lot,
        expiry_date=row.expiry_date,
        status=row.status,
        owner=row.owner,
        unit_cost=row.unit_cost,
        serials=tuple(parse_list(row.serials)),
    )


def write_stock(
    conn: Connection, actor: Actor, data: CsvRows, rows: Sequence[StockLine]
) -> ImportSummary:
    """Receive the file's rows site by site, one receipt per site and chunk of lines."""
    by_site: dict[str, tuple[list[int], list[InboundLine]]] = {}
    for number, site_code, line in rows:
        numbers, lines = by_site.setdefault(site_code, ([], []))
        numbers.append(number)
        lines.append(line)
    total = 0
    header = ReceiptHeader(reason_code="OPENING", source="import")
    items = find_items(conn, {line.sku for _, _, line in rows})
    for site_code, (numbers, lines) in by_site.items():
        try:
            st = site_in_scope(conn, actor, site_code)
        except StockpilotError as exc:
            raise as_row_error(exc, data.name, numbers[0], "site") from None
        try:
            resolved = resolve_lines(conn, st, lines, items=items)
            # Key order, so two imports on PostgreSQL lock balances in one order across chunks.
            resolved.sort(key=lambda ln: ln.key)
            for part in chunks(resolved, POSTING_CHUNK):
                total += post_receipt(conn, actor, st, part, header).quantity
        except StockpilotError as exc:
            raise _row_error(exc, data.name, numbers) from None
    return ImportSummary("stock", len(rows), quantity=total)


_LINE = re.compile(r"^lines\[(\d+)\]\.?(\w*)")


def _row_error(exc: StockpilotError, file: str, numbers: list[int]) -> StockpilotError | RowError:
    """A refusal of ``lines[i].column`` as the file's row and column (a refusal of the whole
    document stays as it is)."""
    match = _LINE.match(exc.field or "")
    if match is None:
        return exc
    return as_row_error(exc, file, numbers[int(match.group(1))], match.group(2) or "quantity")


def post_opening(conn: Connection, actor: Actor, moves: list[MoveLine]) -> int:
    """Post opening-balance moves already in ids (the demo distributor's bulk load) in chunks
    (key order, so concurrent loads lock rows in one order) with one audit row and event per
    chunk. Returns the base units received. Files go through ``write_stock``."""
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
