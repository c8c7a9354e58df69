"""The ledger: moves append, balances follow in the same transaction, refusals write nothing."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from stockpilot.ledger import operations, positions
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import audit_log, move, outbox
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import InsufficientStock, ValidationFailed
from tests.support.world import build_world, receive


def _position(db: Database, sku: str, site: str = "WH1") -> dict:
    with db.read() as conn:
        return positions.stock_position(conn, SYSTEM, sku, site)


def _count(db: Database, table: sa.Table) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_receipt_in_cases_is_stored_in_base_units(db: Database) -> None:
    build_world(db)
    db.run(
        lambda c: operations.receive(
            c, SYSTEM, "WH1", [operations.StockLine("SKU-1", 2, "A-01", uom="CS")]
        )
    )
    pos = _position(db, "SKU-1")
    assert pos["quantity_on_hand"] == 24
    assert pos["quantity_available"] == 24


def test_fractional_base_quantity_is_rejected_and_nothing_written(db: Database) -> None:
    build_world(db)
    moves_before = _count(db, move)
    with pytest.raises(ValidationFailed) as err:
        db.run(
            lambda c: operations.receive(
                c, SYSTEM, "WH1", [operations.StockLine("SKU-1", "1.5", "A-01")]
            )
        )
    assert err.value.field == "lines[0].quantity"
    assert _count(db, move) == moves_before


def test_moving_more_than_on_hand_is_refused_naming_the_line(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    audit_before = _count(db, audit_log)
    with pytest.raises(InsufficientStock) as err:
        db.run(
            lambda c: operations.relocate(
                c,
                SYSTEM,
                "WH1",
                [
                    operations.StockLine("SKU-1", 3, "A-01", to_location="A-02"),
                    operations.StockLine("SKU-1", 9, "A-02", to_location="B-01"),
                ],
            )
        )
    assert err.value.shortages[0].line == 1
    assert err.value.shortages[0].quantity_available == 0
    assert _count(db, audit_log) == audit_before
    assert _position(db, "SKU-1")["quantity_on_hand"] == 5


def test_every_accepted_write_leaves_one_audit_row_its_event_and_one_stock_moved_event(
    db: Database,
) -> None:
    build_world(db)
    audit_before, events_before = _count(db, audit_log), _count(db, outbox)
    receive(db, "SKU-1", 5, "A-01")
    assert _count(db, audit_log) == audit_before + 1
    assert _count(db, outbox) == events_before + 2
    with db.read() as conn:
        topics = conn.execute(
            sa.select(outbox.c.topic).order_by(outbox.c.id.desc()).limit(2)
        ).scalars()
        assert sorted(topics) == ["stock.moved", "stock.receipt.posted"]


def test_status_change_is_a_move_at_the_same_bin(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-01")
    db.run(
        lambda c: operations.relocate(
            c, SYSTEM, "WH1", [operations.StockLine("SKU-1", 4, "A-01", to_status="quarantine")]
        )
    )
    pos = _position(db, "SKU-1")
    assert pos["quantity_on_hand"] == 10
    assert pos["quantity_available"] == 6
    statuses = {row["status"]: row["quantity_on_hand"] for row in pos["breakdown"]}
    assert statuses == {"available": 6, "quarantine": 4}


def test_lot_tracked_receipt_requires_a_lot(db: Database) -> None:
    build_world(db)
    with pytest.raises(ValidationFailed) as err:
        receive(db, "LOT-1", 3, "A-01")
    assert err.value.field == "lines[0].lot"
    receive(db, "LOT-1", 3, "A-01", lot="L1", expiry_date=date(2027, 1, 1))
    assert _position(db, "LOT-1")["breakdown"][0]["lot"] == "L1"


def test_serial_numbers_are_one_unit_each_and_unique(db: Database) -> None:
    build_world(db)
    db.run(
        lambda c: operations.receive(
            c,
            SYSTEM,
            "WH1",
            [operations.StockLine("SER-1", 2, "A-01", serials=["S1", "S2"])],
        )
    )
    assert _position(db, "SER-1")["quantity_on_hand"] == 2
    with pytest.raises(ValidationFailed):
        db.run(
            lambda c: operations.receive(
                c, SYSTEM, "WH1", [operations.StockLine("SER-1", 1, "A-02", serials=["S2"])]
            )
        )


def test_adjustments_post_against_inventory_loss(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-01")
    db.run(
        lambda c: operations.adjust(
            c, SYSTEM, "WH1", [operations.StockLine("SKU-1", -3, "A-01")], reason_code="DAMAGE"
        )
    )
    assert _position(db, "SKU-1")["quantity_on_hand"] == 7
    with db.read() as conn:
        assert verify(conn).ok


def test_verify_reports_drift_when_a_balance_is_tampered_with(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-01")
    with db.transaction() as conn:
        conn.exec_driver_sql(
            "UPDATE balance SET quantity_on_hand = quantity_on_hand + 1 WHERE is_virtual = false"
            if db.is_postgresql
            else "UPDATE balance SET quantity_on_hand = quantity_on_hand + 1 WHERE is_virtual = 0"
        )
    with db.read() as conn:
        report = verify(conn)
    assert not report.ok
    assert report.drifts[0].expected == 10 and report.drifts[0].actual == 11
