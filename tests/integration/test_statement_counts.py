"""Posting a document costs a constant number of SQL statements, whatever its length: the
bare ledger posting, the stock operations, and receipts through the inbound service (plain,
lot- and serial-tracked, against a purchase order, to the dock with putaway tasks).

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event and the hot path's
own observer hook (``persistence.raw.observers``), so an executemany counts once. A per-line
query (N+1) on the posting path would make the 1,000-line count grow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection

from stockpilot.catalog.schemas import SupplierCreate
from stockpilot.catalog.service import create_supplier, supplier_id_by_code
from stockpilot.inbound.purchase_orders import (
    DraftLine,
    PurchaseOrderDraft,
    create_purchase_order,
)
from stockpilot.inbound.receiving import receive_goods
from stockpilot.inbound.schemas import ReceiptCreate, ReceiptLineCreate
from stockpilot.ledger import operations
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import LOCATION_FLAGS, post_moves
from stockpilot.network.service import site_by_code, virtual_location
from stockpilot.persistence import raw
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item, item_uom, location
from stockpilot.shared.actor import SYSTEM
from stockpilot.tasks.service import Confirmation, confirm_task
from tests.support.world import build_world

LINES = 1000


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def count_raw(statement: str, _params: Any, _many: bool) -> None:
        statements.append(statement)

    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", count)
    raw.observers.append(count_raw)
    try:
        yield statements
    finally:
        raw.observers.remove(count_raw)
        for engine in db.engines:
            event.remove(engine, "before_cursor_execute", count)


def _statements(db: Database, work: Callable[[Connection], object]) -> list[str]:
    with counting(db) as statements:
        db.run(work)
    return statements


def _inserts_moves(statement: str) -> bool:
    """The posting's move insert: alone, or (PostgreSQL, a valued document) after the
    valuation writes of the same statement."""
    return statement.startswith("INSERT INTO move") or " INSERT INTO move (" in statement


def _bulk_items(db: Database, count: int) -> list[str]:
    skus = [f"BULK-{i:05d}" for i in range(count)]
    db.run(lambda c: c.execute(item.insert(), [{"sku": s, "base_uom": "EA"} for s in skus]))
    return skus


def _ids(db: Database) -> dict[str, int]:
    with db.read() as conn:
        wh1 = site_by_code(conn, "WH1").id
        ids = {
            r.code: r.id
            for r in conn.execute(
                sa.select(location.c.code, location.c.id).where(location.c.site_id == wh1)
            )
        }
        ids["@supplier"] = virtual_location(conn, wh1, "supplier")
        ids["@owner"] = site_by_code(conn, "WH1").company_id
        return ids


def _receipt(skus: list[str], bin_code: str) -> Callable[[Connection], object]:
    lines = [operations.StockLine(sku, 5, bin_code) for sku in skus]
    return lambda c: operations.receive(c, SYSTEM, "WH1", lines)


def _relocation(skus: list[str], source: str, target: str) -> Callable[[Connection], object]:
    lines = [operations.StockLine(sku, 2, source, to_location=target) for sku in skus]
    return lambda c: operations.relocate(c, SYSTEM, "WH1", lines)


def test_posting_a_thousand_line_document_issues_as_many_statements_as_ten_lines(
    db: Database,
) -> None:
    build_world(db)
    skus = _bulk_items(db, LINES)
    loc = _ids(db)
    with db.read() as conn:
        item_ids = [
            int(i) for i in conn.execute(sa.select(item.c.id).where(item.c.sku.in_(skus))).scalars()
        ]

    def document(count: int) -> Callable[[Connection], object]:
        lines = [
            MoveLine(
                item_id=item_id,
                from_location_id=loc["@supplier"],
                to_location_id=loc["A-01"],
                quantity=3,
                owner_id=loc["@owner"],
                line_no=i,
            )
            for i, item_id in enumerate(item_ids[:count])
        ]
        return lambda c: post_moves(c, lines, PostingContext("receipt"))

    _statements(db, document(2))  # warm the location-flag cache
    ten = _statements(db, document(10))
    thousand = _statements(db, document(LINES))
    assert len(thousand) == len(ten), (ten, thousand)


def test_receipts_and_bin_moves_through_the_service_cost_constant_statements(
    db: Database,
) -> None:
    build_world(db)
    skus = _bulk_items(db, LINES)
    _statements(db, _receipt(skus[:2], "A-01"))  # warm caches
    receipt_ten = _statements(db, _receipt(skus[:10], "A-01"))
    receipt_thousand = _statements(db, _receipt(skus, "A-01"))
    assert len(receipt_thousand) == len(receipt_ten), (receipt_ten, receipt_thousand)
    # Both kinds of statement are seen: SQLAlchemy's (the item look-up) and the driver's.
    assert any("FROM item" in s for s in receipt_ten), receipt_ten
    assert any(_inserts_moves(s) for s in receipt_ten), receipt_ten
    _statements(db, _relocation(skus[:2], "A-01", "A-02"))  # warm the flags of A-02
    move_ten = _statements(db, _relocation(skus[:10], "A-01", "A-02"))
    move_thousand = _statements(db, _relocation(skus, "A-01", "A-02"))
    assert len(move_thousand) == len(move_ten), (move_ten, move_thousand)


def test_receipts_entered_in_cases_read_all_unit_factors_in_one_query(db: Database) -> None:
    build_world(db)
    skus = _bulk_items(db, LINES)
    with db.read() as conn:
        rows = conn.execute(sa.select(item.c.sku, item.c.id).where(item.c.sku.in_(skus)))
        ids = {sku: item_id for sku, item_id in rows}
    db.run(
        lambda c: c.execute(
            item_uom.insert(),
            [{"item_id": ids[s], "uom": "CS", "factor_numerator": 12} for s in skus],
        )
    )

    def in_cases(count: int) -> Callable[[Connection], object]:
        lines = [operations.StockLine(s, 1, "A-01", uom="CS") for s in skus[:count]]
        return lambda c: operations.receive(c, SYSTEM, "WH1", lines)

    _statements(db, in_cases(2))
    ten = _statements(db, in_cases(10))
    thousand = _statements(db, in_cases(LINES))
    assert len(thousand) == len(ten), (ten, thousand)


# --- receipts through the inbound service ------------------------------------------------------


class _Receipts:
    """A site with plain, lot- and serial-tracked items and a supplier: receipts of any size
    through ``inbound.receiving.receive_goods``, each with fresh lots and serial numbers."""

    def __init__(self, db: Database) -> None:
        build_world(db)
        self.db = db
        self.runs = 0
        rows = [
            {"sku": f"{prefix}-{i:05d}", "base_uom": "EA", "lot_tracked": prefix == "L",
             "serial_tracked": prefix == "S"}
            for prefix in ("P", "L", "S")
            for i in range(LINES)
        ]  # fmt: skip
        db.run(lambda c: c.execute(item.insert(), rows))
        db.run(lambda c: create_supplier(c, SYSTEM, SupplierCreate(code="S1", name="First")))

    def order(self, count: int) -> int:
        """A confirmed purchase order of ``count`` plain lines, 10 units each."""

        def work(conn: Connection) -> int:
            st = site_by_code(conn, "WH1")
            items = dict(conn.execute(sa.select(item.c.sku, item.c.id)).all())
            lines = [DraftLine(items[f"P-{i:05d}"], 10) for i in range(count)]
            supplier_id = supplier_id_by_code(conn, "S1")
            return create_purchase_order(
                conn, SYSTEM, PurchaseOrderDraft(st.id, supplier_id, lines)
            )

        return self.db.run(work)

    def lines(self, kind: str, count: int, run: int) -> list[ReceiptLineCreate]:
        bin_code = None if kind == "dock" else "A-01"
        if kind == "lots":  # half new lots, half the lots of the first receipt of this kind
            return [
                ReceiptLineCreate(
                    sku=f"L-{i:05d}", quantity=Decimal(3), location=bin_code,
                    lot=f"R0-{i}" if i % 2 else f"R{run}-{i}", expiry_date=date(2030, 1, 1),
                )
                for i in range(count)
            ]  # fmt: skip
        if kind == "serials":
            return [
                ReceiptLineCreate(
                    sku=f"S-{i:05d}", quantity=Decimal(2), location=bin_code,
                    serials=[f"R{run}-{i}-A", f"R{run}-{i}-B"],
                )
                for i in range(count)
            ]  # fmt: skip
        return [
            ReceiptLineCreate(sku=f"P-{i:05d}", quantity=Decimal(5), location=bin_code)
            for i in range(count)
        ]

    def receipt(self, kind: str, count: int) -> Callable[[Connection], object]:
        self.runs += 1
        order = self.order(count) if kind == "order" else None
        cmd = ReceiptCreate(
            site="WH1", purchase_order=order, lines=self.lines(kind, count, self.runs)
        )
        return lambda c: receive_goods(c, SYSTEM, cmd, max_lines=LINES)


@pytest.mark.parametrize("kind", ["plain", "lots", "serials", "order", "dock"])
def test_a_receipt_through_the_service_costs_as_many_statements_for_a_thousand_lines_as_for_ten(
    db: Database, kind: str
) -> None:
    receipts = _Receipts(db)
    _statements(db, receipts.receipt(kind, 2))  # warm caches (location flags, the dock)
    _statements(db, receipts.receipt("lots", 2))  # the lots that later receipts find again
    ten = _statements(db, receipts.receipt(kind, 10))
    thousand = _statements(db, receipts.receipt(kind, LINES))
    assert len(thousand) == len(ten), (ten, thousand)
    assert sum(_inserts_moves(s) for s in ten) == 1, ten


def test_putaway_confirmations_cost_the_same_statements_whatever_the_receipt_they_come_from(
    db: Database,
) -> None:
    receipts = _Receipts(db)
    small = db.run(receipts.receipt("dock", 10))
    big = db.run(receipts.receipt("dock", LINES))
    assert isinstance(small, dict) and isinstance(big, dict)
    with db.read() as conn:  # every bin's flags cached, as in a running server
        LOCATION_FLAGS.resolve(conn, set(conn.execute(sa.select(location.c.id)).scalars()))

    def confirm(task_id: int) -> Callable[[Connection], object]:
        return lambda c: confirm_task(c, SYSTEM, task_id, Confirmation())

    _statements(db, confirm(small["putaway_tasks"][0]))  # the first one warms the handlers
    counts = [
        len(_statements(db, confirm(task_id)))
        for task_id in (small["putaway_tasks"][1], small["putaway_tasks"][-1],
                        big["putaway_tasks"][0], big["putaway_tasks"][-1])
    ]  # fmt: skip
    assert len(set(counts)) == 1, counts
