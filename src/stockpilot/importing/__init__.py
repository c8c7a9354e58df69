"""CSV import and export.

``import_csv`` reads and validates the whole file first, then writes it in ONE transaction: a
bad row refuses the file (naming the 1-based data row, header excluded, and the column) and
nothing is imported. Concurrent imports are safe: SQLite serialises write transactions
(BEGIN IMMEDIATE); on PostgreSQL rows are written in key order under unique constraints and a
colliding attempt is retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from stockpilot.importing import documents, history, locations, masterdata, stock
from stockpilot.importing.bulk import run_import
from stockpilot.importing.csvrows import CsvRows, HeaderError, read_csv
from stockpilot.importing.exporting import EXPORTERS, export_csv
from stockpilot.importing.masterdata import ImportSummary
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import ValidationFailed

__all__ = [
    "EXPORT_KINDS",
    "IMPORT_KINDS",
    "HeaderError",
    "ImportSummary",
    "export_csv",
    "import_csv",
]


@dataclass(frozen=True)
class _Kind:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    validate: Callable[[CsvRows], Any]
    write: Callable[[Connection, Actor, CsvRows, Any], ImportSummary]
    aliases: dict[str, str] | None = None
    ignored: tuple[str, ...] = ()
    # Reads a file that need not be CSV (an X12 856): returns what ``write`` takes.
    load: Callable[[Path], tuple[CsvRows, Any]] | None = None


def _history(kind: str) -> Callable[[Connection, Actor, CsvRows, Any], ImportSummary]:
    def write(conn: Connection, actor: Actor, data: CsvRows, _: Any) -> ImportSummary:
        return history.write_history(conn, actor, kind, data)

    return write


_KINDS: dict[str, _Kind] = {
    "items": _Kind(
        masterdata.ITEM_REQUIRED,
        masterdata.ITEM_OPTIONAL,
        masterdata.validate_items,
        masterdata.write_items,
    ),
    "customers": _Kind(
        masterdata.CUSTOMER_REQUIRED,
        masterdata.CUSTOMER_OPTIONAL,
        masterdata.validate_customers,
        lambda c, a, d, cmds: masterdata.write_parties(c, a, "customers", d, cmds),
    ),
    "suppliers": _Kind(
        masterdata.SUPPLIER_REQUIRED,
        masterdata.SUPPLIER_OPTIONAL,
        masterdata.validate_suppliers,
        lambda c, a, d, cmds: masterdata.write_parties(c, a, "suppliers", d, cmds),
    ),
    "locations": _Kind(
        locations.LOCATION_REQUIRED,
        locations.LOCATION_OPTIONAL,
        locations.validate_locations,
        locations.write_locations,
    ),
    "stock": _Kind(
        stock.STOCK_REQUIRED,
        stock.STOCK_OPTIONAL,
        stock.validate_stock,
        stock.write_stock,
        aliases=stock.STOCK_ALIASES,
        ignored=stock.STOCK_IGNORED,
    ),
    "demand-history": _Kind(
        history.DEMAND_REQUIRED, history.DEMAND_OPTIONAL, lambda d: None, _history("demand-history")
    ),
    "receipt-history": _Kind(
        history.RECEIPT_REQUIRED, (), lambda d: None, _history("receipt-history")
    ),
    "purchase-orders": _Kind(
        documents.PO_REQUIRED,
        documents.PO_OPTIONAL,
        documents.validate_purchase_orders,
        documents.write_purchase_orders,
    ),
    "asns": _Kind((), (), lambda d: None, documents.write_asns, load=documents.load_asns),
}
IMPORT_KINDS = tuple(_KINDS)
EXPORT_KINDS = tuple(EXPORTERS)


def import_csv(db: Database, kind: str, path: Path, *, actor: Actor) -> ImportSummary:
    """Import one CSV file of ``kind``: all rows or none. Raises RowError for a bad row."""
    spec = _KINDS.get(kind)
    if spec is None:
        raise ValidationFailed(
            f"cannot import {kind!r}: choose one of {', '.join(_KINDS)}", field="kind"
        )
    if not path.is_file():
        raise ValidationFailed(f"no such file: {path}", field="file")
    if spec.load is not None:
        data, validated = spec.load(path)
    else:
        data = read_csv(
            path, spec.required, spec.optional, aliases=spec.aliases, ignored=spec.ignored
        )
        validated = spec.validate(data)
    return run_import(db, lambda conn: spec.write(conn, actor, data, validated))
