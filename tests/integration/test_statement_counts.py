"""Posting a document costs a constant number of SQL statements, whatever its length.

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event and the hot path's
own observer hook (``persistence.raw.observers``), so an executemany counts once. A per-line
query (N+1) on the posting path would make the 1,000-line count grow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection

from stockpilot.ledger import operations
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import site_by_code, virtual_location
from stockpilot.persistence import raw
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item, item_uom, location
from stockpilot.shared.actor import SYSTEM
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
    assert any(s.startswith("INSERT INTO move") for s in receipt_ten), receipt_ten
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
