"""Advance shipping notices as CSV: one row per line, rows of one ASN share its ``asn_number``.

    asn_number,purchase_order,po_line,sku,quantity,lot,expiry_date,serials,sscc,expected_date

``serials`` holds the line's serial numbers separated by ``|``; ``sscc`` is the pallet (or
carton) the line travels on. Optional extra columns: ``gtin`` (checked and stored as GTIN-14)
and ``uom`` (the unit ``quantity`` is counted in; empty means the item's base unit). A file may
hold several ASNs; they come back in the order of their first row.

Errors are the importers' `RowError`: the 1-based data row and the column, via the shared
reading in `stockpilot.importing.csvrows`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from stockpilot.importing.csvrows import CsvRows, as_row_error, read_csv, validate
from stockpilot.inbound.edi_x12 import Asn, AsnLine
from stockpilot.inbound.scan import normalise_gtin, normalise_sscc
from stockpilot.shared.errors import RowError, StockpilotError
from stockpilot.shared.quantities import to_base_units

ASN_REQUIRED = ("asn_number", "purchase_order", "sku", "quantity")
ASN_OPTIONAL = ("po_line", "lot", "expiry_date", "serials", "sscc", "expected_date", "gtin", "uom")
SERIAL_SEPARATOR = "|"


class AsnRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asn_number: str = Field(min_length=1, max_length=60)
    purchase_order: str = Field(min_length=1, max_length=60)
    po_line: int | None = Field(default=None, ge=1)
    sku: str = Field(min_length=1, max_length=60)
    quantity: Decimal
    lot: str | None = Field(default=None, max_length=60)
    expiry_date: date | None = None
    serials: str | None = None
    sscc: str | None = None
    expected_date: date | None = None
    gtin: str | None = None
    uom: str | None = Field(default=None, max_length=20)


def read_asn_csv(path: Path) -> list[Asn]:
    """Read an ASN file; a bad header or row raises HeaderError / RowError."""
    return asns_from_rows(read_csv(path, ASN_REQUIRED, ASN_OPTIONAL))


def asns_from_rows(data: CsvRows) -> list[Asn]:
    """Group validated rows into ASNs (first-appearance order), lines numbered per ASN."""
    grouped: dict[str, list[tuple[int, AsnRow]]] = {}
    for number, cells in data.numbered():
        row = validate(AsnRow, data.name, number, cells)
        grouped.setdefault(row.asn_number, []).append((number, row))
    seen_serials: dict[str, int] = {}
    return [_asn(data.name, rows, seen_serials) for rows in grouped.values()]


def _asn(file: str, rows: list[tuple[int, AsnRow]], seen_serials: dict[str, int]) -> Asn:
    first_number, first = rows[0]
    for number, row in rows[1:]:
        if row.expected_date != first.expected_date:
            raise RowError(
                file,
                number,
                "expected_date",
                f"ASN {row.asn_number} has expected_date {_iso(first.expected_date)} on row "
                f"{first_number} and {_iso(row.expected_date)} here; one ASN arrives on one date",
            )
    lines = tuple(
        _line(file, number, position, row, seen_serials)
        for position, (number, row) in enumerate(rows, start=1)
    )
    return Asn(
        number=first.asn_number,
        ship_date=None,
        expected_date=first.expected_date,
        supplier_ref=None,
        lines=lines,
    )


def _line(
    file: str, number: int, position: int, row: AsnRow, seen_serials: dict[str, int]
) -> AsnLine:
    try:
        quantity = to_base_units(row.quantity, Fraction(1), field="quantity")
    except StockpilotError as exc:
        raise as_row_error(exc, file, number, "quantity") from None
    serials = tuple(_split_serials(row.serials))
    _check_serials(file, number, serials, quantity, row.uom, seen_serials)
    return AsnLine(
        line=position,
        po_number=row.purchase_order,
        po_line=row.po_line,
        sku=row.sku,
        gtin=_checked(file, number, "gtin", normalise_gtin, row.gtin),
        vendor_part=None,
        quantity=quantity,
        uom=row.uom,
        lot=row.lot,
        expiry_date=row.expiry_date,
        serials=serials,
        sscc=_checked(file, number, "sscc", normalise_sscc, row.sscc),
        source=f"row {number}",
    )


def _checked(
    file: str, number: int, column: str, check: Callable[[str], str], value: str | None
) -> str | None:
    """Run one cell's check; a domain error becomes a RowError naming row and column."""
    if value is None:
        return None
    try:
        return check(value)
    except StockpilotError as exc:
        raise as_row_error(exc, file, number, column) from None


def _split_serials(text: str | None) -> Iterable[str]:
    if not text:
        return []
    return [part.strip() for part in text.split(SERIAL_SEPARATOR) if part.strip()]


def _check_serials(
    file: str,
    number: int,
    serials: tuple[str, ...],
    quantity: int,
    uom: str | None,
    seen: dict[str, int],
) -> None:
    if not serials:
        return
    for serial in serials:
        if serial in seen:
            where = "twice on this row" if seen[serial] == number else f"also on row {seen[serial]}"
            raise RowError(file, number, "serials", f"serial {serial} is {where}")
        seen[serial] = number
    # In base units each unit carries one serial; in another unit the service converts first.
    if uom is None and len(serials) != quantity:
        raise RowError(
            file,
            number,
            "serials",
            f"{len(serials)} serials for a quantity of {quantity}: one serial per unit",
        )


def _iso(value: date | None) -> str:
    return value.isoformat() if value else "(empty)"
