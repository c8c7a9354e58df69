"""Import documents: purchase orders from CSV, ASNs from CSV or an X12 856 file.

Both go through the same services as the API (``inbound.purchase_orders``, ``inbound.asns``),
so a file is checked exactly as a request body is; the whole file is one transaction, and a
refusal names the 1-based data row and the column (or, for X12, the segment and element).

Purchase orders, one row per line; rows that share ``number`` make up one order:

    number,site,supplier,sku,quantity[,uom,expected_date,unit_price,currency,status]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from stockpilot.importing.csvrows import CsvRows, read_csv, validate
from stockpilot.importing.masterdata import ImportSummary
from stockpilot.inbound.asns import AsnDocument, create_asns, documents_from_parsed
from stockpilot.inbound.schemas import PurchaseOrderCreate, PurchaseOrderLineCreate
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import RowError, StockpilotError, ValidationFailed
from stockpilot.shared.fields import Money

PO_REQUIRED = ("number", "site", "supplier", "sku", "quantity")
PO_OPTIONAL = ("uom", "expected_date", "unit_price", "currency", "status")
# Columns that describe the order, not the line: every row of one order must agree on them.
_PO_HEADER = ("site", "supplier", "currency", "status")
_FIELD = re.compile(r"^(?:asns\[(\d+)\]\.)?lines\[(\d+)\]\.(\w+)$")


class PurchaseOrderRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Field(min_length=1, max_length=40)
    site: str = Field(min_length=1, max_length=40)
    supplier: str = Field(min_length=1, max_length=60)
    sku: str = Field(min_length=1, max_length=60)
    quantity: Decimal = Field(gt=0)
    uom: str | None = Field(default=None, max_length=20)
    expected_date: date | None = None
    unit_price: Money | None = None
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    status: Literal["draft", "confirmed"] = "confirmed"


@dataclass(frozen=True)
class _Order:
    cmd: PurchaseOrderCreate
    rows: list[int]  # the data row of each line


# --- purchase orders ----------------------------------------------------------------------------


def validate_purchase_orders(data: CsvRows) -> list[_Order]:
    """Rows grouped into orders (in the order of their first row), each a checked command."""
    grouped: dict[str, list[tuple[int, PurchaseOrderRow]]] = {}
    for number, cells in data.numbered():
        row = validate(PurchaseOrderRow, data.name, number, cells)
        grouped.setdefault(row.number, []).append((number, row))
    orders = []
    for rows in grouped.values():
        first_number, first = rows[0]
        for number, row in rows[1:]:
            for column in _PO_HEADER:
                if getattr(row, column) != getattr(first, column):
                    raise RowError(
                        data.name,
                        number,
                        column,
                        f"order {row.number} has {column} {getattr(first, column)} on row "
                        f"{first_number} and {getattr(row, column)} here",
                    )
        lines = [
            PurchaseOrderLineCreate(
                sku=r.sku,
                quantity=r.quantity,
                uom=r.uom,
                expected_date=r.expected_date,
                unit_price=r.unit_price,
            )
            for _, r in rows
        ]
        cmd = PurchaseOrderCreate(
            site=first.site,
            supplier=first.supplier,
            number=first.number,
            currency=first.currency,
            status=first.status,
            lines=lines,
        )
        orders.append(_Order(cmd, [n for n, _ in rows]))
    return orders


def write_purchase_orders(
    conn: Connection, actor: Actor, data: CsvRows, orders: list[_Order]
) -> ImportSummary:
    from stockpilot.inbound.purchase_orders import create_purchase_order, draft_from_command

    seen: dict[str, int] = {}
    for order in orders:
        number = order.cmd.number or ""
        if number in seen:  # grouping makes this impossible; kept as the file's own rule
            raise RowError(data.name, order.rows[0], "number", f"order {number} repeats")
        seen[number] = order.rows[0]
        try:
            draft = draft_from_command(conn, actor, order.cmd)
            create_purchase_order(conn, actor, draft)
        except StockpilotError as exc:
            raise _row_error(data.name, exc, order.rows) from None
    return ImportSummary("purchase-orders", rows=len(data.rows), created=len(orders))


def _row_error(file: str, exc: StockpilotError, rows: list[int]) -> RowError:
    """A service error about ``lines[i].column`` (or a header field) as the row it came from."""
    field = exc.field or "number"
    found = _FIELD.match(field)
    if found is not None:
        index, column = int(found.group(2)), found.group(3)
        return RowError(file, rows[min(index, len(rows) - 1)], column, exc.detail)
    return RowError(file, rows[0], field, exc.detail)


# --- ASNs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsnFile:
    """The ASNs of one file and how to point at their rows (CSV) or segments (X12)."""

    name: str
    origin: str
    documents: list[AsnDocument]


def load_asns(path: Path) -> tuple[CsvRows, AsnFile]:
    """Read an ASN file: an X12 856 interchange when it starts with ISA, else a CSV as
    ``inbound.asn_csv`` reads it. Nothing is written; every row or segment is checked."""
    from stockpilot.inbound.asn_csv import ASN_OPTIONAL, ASN_REQUIRED, asns_from_rows
    from stockpilot.inbound.edi_x12 import parse_856

    raw = path.read_bytes()
    text = raw.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("ISA"):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(
                f"{path.name}: the 856 is not UTF-8 text", field="file"
            ) from None
        parsed = parse_856(text.lstrip())
        return CsvRows(path.name, (), []), AsnFile(
            path.name, "x12", documents_from_parsed(parsed, "x12")
        )
    data = read_csv(path, ASN_REQUIRED, ASN_OPTIONAL)
    parsed = asns_from_rows(data)
    try:
        documents = documents_from_parsed(parsed, "csv")
    except StockpilotError as exc:
        sources = [[ln.source for ln in one.lines] for one in parsed]
        raise _asn_row_error(path.name, sources, exc) from None
    return data, AsnFile(path.name, "csv", documents)


def write_asns(conn: Connection, actor: Actor, data: CsvRows, found: AsnFile) -> ImportSummary:
    try:
        ids = create_asns(conn, actor, found.documents)
    except StockpilotError as exc:
        if found.origin == "csv":
            sources = [list(d.sources) for d in found.documents]
            raise _asn_row_error(found.name, sources, exc) from None
        raise type(exc)(f"{found.name}: {exc.detail}", field=exc.field, **exc.extra) from None
    lines = sum(len(d.cmd.lines) for d in found.documents)
    return ImportSummary("asns", rows=lines, created=len(ids))


_ASN_COLUMNS = {"po_line": "po_line", "purchase_order": "purchase_order", "number": "asn_number"}


def _asn_row_error(file: str, sources: list[list[str | None]], exc: StockpilotError) -> RowError:
    """A service error about ``[asns[k].]lines[i].column`` (or a header field) as the CSV row
    that line came from."""
    field = exc.field or ""
    prefix = re.match(r"^asns\[(\d+)\]\.", field)
    lines = sources[min(int(prefix.group(1)) if prefix else 0, len(sources) - 1)]
    match = _FIELD.match(field)
    if match is not None:
        index, column = int(match.group(2)), match.group(3)
    else:
        # A header field (site, supplier, number) is read from the ASN's purchase orders.
        index, column = 0, _ASN_COLUMNS.get(field.rsplit(".", 1)[-1], "purchase_order")
    source = lines[index] if index < len(lines) else None
    row = int(source.removeprefix("row ")) if source and source.startswith("row ") else 1
    detail = exc.detail.replace(f" ({source})", "") if source else exc.detail
    return RowError(file, row, _ASN_COLUMNS.get(column, column), detail)
