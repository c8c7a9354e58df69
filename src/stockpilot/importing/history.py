"""Import demand and receipt history, the inputs of planning (same columns as its CSV files).

- demand-history: ``item,site,date,quantity`` (+ ``customer``, ``quantity_fulfilled``): one row
  per order line at its requested date; lost and backordered demand counts as demand.
- receipt-history: ``item,site,supplier,order_date,receipt_date,quantity``: what a supplier
  delivered and how long it took (planning measures lead times from it).

Files can hold millions of rows, so each row is parsed by hand (no model per row) and the rows
are appended with one executemany per chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from stockpilot.importing.bulk import ids_by
from stockpilot.importing.csvrows import CsvRows
from stockpilot.importing.masterdata import ImportSummary
from stockpilot.persistence import journal
from stockpilot.persistence.tables import customer, demand_history, item, receipt_history, site
from stockpilot.persistence.tables import supplier as supplier_table
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import RowError

DEMAND_REQUIRED = ("item", "site", "date", "quantity")
DEMAND_OPTIONAL = ("customer", "quantity_fulfilled")
RECEIPT_REQUIRED = ("item", "site", "supplier", "order_date", "receipt_date", "quantity")
HISTORY_CHUNK = 20000


class _Cells:
    """Typed access to the cells of one row; every failure names its row and column."""

    def __init__(self, file: str, number: int, cells: dict[str, str]) -> None:
        self.file, self.number, self.cells = file, number, cells

    def fail(self, column: str, message: str) -> RowError:
        return RowError(self.file, self.number, column, message)

    def text(self, column: str) -> str:
        value = self.cells.get(column)
        if value is None:
            raise self.fail(column, "a value is required")
        return value

    def date(self, column: str) -> date:
        value = self.text(column)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(column, f"expected a date YYYY-MM-DD, got {value!r}") from None

    def count(self, column: str, *, positive: bool = True) -> int:
        value = self.text(column)
        try:
            number = int(value)
        except ValueError:
            raise self.fail(column, f"expected a whole number, got {value!r}") from None
        if number < 0 or (positive and number == 0):
            raise self.fail(column, f"must be {'positive' if positive else 'zero or more'}")
        return number

    def ref(self, column: str, known: dict[str, int], what: str) -> int:
        value = self.text(column)
        if value not in known:
            raise self.fail(column, f"unknown {what} {value!r}")
        return known[value]


def _refs(conn: Connection, data: CsvRows) -> dict[str, dict[str, int]]:
    def codes(column: str) -> set[str]:
        return {r[column] for r in data.rows if column in r}

    return {
        "item": ids_by(conn, item.c.sku, codes("item")),
        "site": ids_by(conn, site.c.code, codes("site")),
        "customer": ids_by(conn, customer.c.code, codes("customer")),
        "supplier": ids_by(conn, supplier_table.c.code, codes("supplier")),
    }


def _demand_row(cells: _Cells, refs: dict[str, dict[str, int]]) -> dict[str, Any]:
    quantity = cells.count("quantity")
    fulfilled = None
    if "quantity_fulfilled" in cells.cells:
        fulfilled = cells.count("quantity_fulfilled", positive=False)
        if fulfilled > quantity:
            raise cells.fail("quantity_fulfilled", "cannot exceed quantity")
    return {
        "item_id": cells.ref("item", refs["item"], "item"),
        "site_id": cells.ref("site", refs["site"], "site"),
        "customer_id": (
            cells.ref("customer", refs["customer"], "customer")
            if "customer" in cells.cells
            else None
        ),
        "requested_date": cells.date("date"),
        "quantity": quantity,
        "quantity_fulfilled": fulfilled,
        "source": "import",
    }


def _receipt_row(cells: _Cells, refs: dict[str, dict[str, int]]) -> dict[str, Any]:
    ordered, received = cells.date("order_date"), cells.date("receipt_date")
    if received < ordered:
        raise cells.fail("receipt_date", "a receipt cannot come before its order")
    return {
        "item_id": cells.ref("item", refs["item"], "item"),
        "site_id": cells.ref("site", refs["site"], "site"),
        "supplier_id": cells.ref("supplier", refs["supplier"], "supplier"),
        "order_date": ordered,
        "receipt_date": received,
        "quantity": cells.count("quantity"),
        "source": "import",
    }


def write_history(conn: Connection, actor: Actor, kind: str, data: CsvRows) -> ImportSummary:
    """Parse every row (refusing the file at the first bad one), then append them in chunks."""
    table, parse = _KINDS[kind]
    refs = _refs(conn, data)
    rows = [parse(_Cells(data.name, n, cells), refs) for n, cells in data.numbered()]
    for start in range(0, len(rows), HISTORY_CHUNK):
        conn.execute(table.insert(), rows[start : start + HISTORY_CHUNK])
    journal.record(
        conn,
        actor,
        action=f"import.{kind}",
        entity_type="import",
        entity_id=None,
        detail={"file": data.name, "rows": len(rows)},
        topic=f"import.{kind}.completed",
    )
    return ImportSummary(kind, len(rows))


_Parser = Callable[[_Cells, dict[str, dict[str, int]]], dict[str, Any]]
_KINDS: dict[str, tuple[Any, _Parser]] = {
    "demand-history": (demand_history, _demand_row),
    "receipt-history": (receipt_history, _receipt_row),
}
