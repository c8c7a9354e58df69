"""Import items, customers and suppliers: validated by the API's own models, written in bulk.

An import creates what is new and updates what exists (matched by sku or code), so a file can
be loaded again after a correction. What an item's past moves depend on — its base unit and
whether it is lot- or serial-tracked — cannot be changed by an import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from stockpilot.catalog.schemas import CustomerCreate, ItemCreate, SupplierCreate
from stockpilot.catalog.service import item_row, uom_row
from stockpilot.importing.bulk import ids_by, upsert
from stockpilot.importing.csvrows import CsvRows, parse_list, validate
from stockpilot.persistence import journal
from stockpilot.persistence.tables import customer, item, item_uom, supplier
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import RowError

ITEM_REQUIRED = ("sku", "description", "base_uom")
ITEM_OPTIONAL = tuple(f for f in ItemCreate.model_fields if f not in ITEM_REQUIRED)
# Fixed at creation: past moves are stored in base units, with or without lots and serials.
ITEM_IMMUTABLE = ("base_uom", "lot_tracked", "serial_tracked")
CUSTOMER_REQUIRED = ("code", "name")
CUSTOMER_OPTIONAL = ("priority",)
SUPPLIER_REQUIRED = ("code", "name")
SUPPLIER_OPTIONAL = ("lead_time_days", "lead_time_std_days")


@dataclass(frozen=True)
class ImportSummary:
    kind: str
    rows: int
    created: int = 0
    updated: int = 0
    quantity: int = 0

    def describe(self) -> str:
        parts = [f"{self.rows} rows"]
        if self.created or self.updated:
            parts.append(f"{self.created} created, {self.updated} updated")
        if self.quantity:
            parts.append(f"{self.quantity} base units received")
        return f"imported {self.kind}: " + ", ".join(parts)


def _unique_keys(data: CsvRows, column: str, values: list[str]) -> None:
    seen: dict[str, int] = {}
    for number, value in enumerate(values, start=1):
        if value in seen:
            raise RowError(data.name, number, column, f"{value!r} repeats row {seen[value]}")
        seen[value] = number


def parse_units(file: str, number: int, text: str | None) -> list[dict[str, str]]:
    """``"CS=12;PAL=480"`` → ``[{"uom": "CS", "factor": "12"}, ...]``."""
    units = []
    for part in parse_list(text):
        uom, sep, factor = part.partition("=")
        if not sep or not uom.strip() or not factor.strip():
            raise RowError(file, number, "units", f"expected UOM=FACTOR, got {part!r}")
        units.append({"uom": uom.strip(), "factor": factor.strip()})
    return units


def validate_items(data: CsvRows) -> list[ItemCreate]:
    commands = []
    for number, cells in data.numbered():
        values: dict[str, Any] = dict(cells)
        if "units" in cells:
            values["units"] = parse_units(data.name, number, cells["units"])
        commands.append(validate(ItemCreate, data.name, number, values))
    _unique_keys(data, "sku", [c.sku for c in commands])
    return commands


def write_items(
    conn: Connection, actor: Actor, data: CsvRows, commands: list[ItemCreate]
) -> ImportSummary:
    suppliers = ids_by(conn, supplier.c.code, {c.supplier for c in commands if c.supplier})
    existing = ids_by(
        conn,
        item.c.sku,
        [c.sku for c in commands],
        *(item.c[col] for col in ITEM_IMMUTABLE),
    )
    rows: list[dict[str, Any]] = []
    for number, cmd in enumerate(commands, start=1):
        if cmd.supplier and cmd.supplier not in suppliers:
            raise RowError(data.name, number, "supplier", f"unknown supplier {cmd.supplier!r}")
        row = item_row(cmd, suppliers.get(cmd.supplier) if cmd.supplier else None)
        old = existing.get(cmd.sku)
        for col in ITEM_IMMUTABLE:
            if old is not None and col in data.header and row[col] != old._mapping[col]:
                raise RowError(
                    data.name, number, col, f"cannot change {col} of existing item {cmd.sku!r}"
                )
        rows.append(row)
    updatable = [c for c in data.header if c in item.c and c not in (*ITEM_IMMUTABLE, "sku")]
    if "supplier" in data.header:
        updatable.append("supplier_id")
    upsert(conn, item, rows, ["sku"], updatable, bump_version=True)
    ids = ids_by(conn, item.c.sku, [c.sku for c in commands if c.units])
    uoms = [uom_row(ids[c.sku], u.uom, u.factor) for c in commands for u in c.units]
    upsert(conn, item_uom, uoms, ["item_id", "uom"], ["factor_numerator", "factor_denominator"])
    created = len(commands) - len(existing)
    return _finish(conn, actor, "items", data, created, len(existing))


def _finish(
    conn: Connection, actor: Actor, kind: str, data: CsvRows, created: int, updated: int
) -> ImportSummary:
    journal.record(
        conn,
        actor,
        action=f"import.{kind}",
        entity_type="import",
        entity_id=None,
        detail={"file": data.name, "rows": len(data.rows), "created": created, "updated": updated},
        topic=f"import.{kind}.completed",
    )
    return ImportSummary(kind, len(data.rows), created, updated)


def validate_customers(data: CsvRows) -> list[CustomerCreate]:
    commands = [validate(CustomerCreate, data.name, n, cells) for n, cells in data.numbered()]
    _unique_keys(data, "code", [c.code for c in commands])
    return commands


def validate_suppliers(data: CsvRows) -> list[SupplierCreate]:
    commands = [validate(SupplierCreate, data.name, n, cells) for n, cells in data.numbered()]
    _unique_keys(data, "code", [c.code for c in commands])
    return commands


def write_parties(
    conn: Connection,
    actor: Actor,
    kind: str,
    data: CsvRows,
    commands: list[CustomerCreate] | list[SupplierCreate],
) -> ImportSummary:
    """Customers or suppliers: upsert by code."""
    table = customer if kind == "customers" else supplier
    codes = [c.code for c in commands]
    existing = len(ids_by(conn, table.c.code, codes))
    rows = [c.model_dump() for c in commands]
    updatable = [c for c in data.header if c in table.c and c != "code"]
    upsert(conn, table, rows, ["code"], updatable, bump_version=True)
    return _finish(conn, actor, kind, data, len(rows) - existing, existing)
