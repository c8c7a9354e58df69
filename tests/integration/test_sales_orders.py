"""Sales orders allocate what is available, FEFO for lots, and resolve each allocation once."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from stockpilot.ledger import positions
from stockpilot.ledger.verify import verify
from stockpilot.outbound import sales_orders
from stockpilot.outbound.schemas import SalesOrderCreate
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import allocation
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import Conflict
from tests.support.world import build_world, receive


def _order(db: Database, lines: list[dict], site: str = "WH1") -> int:
    cmd = SalesOrderCreate.model_validate({"site": site, "customer": "C1", "lines": lines})
    return db.run(lambda c: sales_orders.create(c, SYSTEM, cmd, 1000))


def test_allocate_reports_shortage_per_line(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    receive(db, "SKU-1", 2, "A-02")
    order_id = _order(db, [{"sku": "SKU-1", "quantity": 10}, {"sku": "SKU-2", "quantity": 1}])
    result = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert [(r.quantity_allocated, r.quantity_short) for r in result] == [(7, 3), (0, 1)]


def test_lot_items_allocate_first_expiring_first(db: Database) -> None:
    build_world(db)
    receive(db, "LOT-1", 5, "A-01", lot="LATE", expiry_date=date(2028, 1, 1))
    receive(db, "LOT-1", 5, "A-02", lot="EARLY", expiry_date=date(2027, 1, 1))
    order_id = _order(db, [{"sku": "LOT-1", "quantity": 6}])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "LOT-1", "WH1")
    by_lot = {row["lot"]: row["quantity_allocated"] for row in pos["breakdown"]}
    assert by_lot == {"EARLY": 5, "LATE": 1}


def test_non_allocatable_status_is_never_allocated(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01", status="quarantine")
    order_id = _order(db, [{"sku": "SKU-1", "quantity": 1}])
    result = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert result[0].quantity_short == 1


def test_short_pick_posts_part_and_releases_the_rest(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    order_id = _order(db, [{"sku": "SKU-1", "quantity": 5}])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    with db.read() as conn:
        alloc_id = int(conn.execute(sa.select(allocation.c.id)).scalar_one())
    done = db.run(lambda c: sales_orders.pick_order(c, SYSTEM, order_id, {alloc_id: 3}))
    assert done == {"quantity_posted": 3, "quantity_released": 2}
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        assert (pos["quantity_on_hand"], pos["quantity_allocated"]) == (2, 0)
        order = sales_orders.get_order(conn, SYSTEM, order_id)
        assert order["lines"][0]["quantity_picked"] == 3
        assert verify(conn).ok
    with pytest.raises(Exception):  # noqa: B017 - resolved allocations cannot resolve again
        db.run(lambda c: sales_orders.pick_order(c, SYSTEM, order_id, {alloc_id: 1}))


def test_release_returns_stock_to_available(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    order_id = _order(db, [{"sku": "SKU-1", "quantity": 4}])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert db.run(lambda c: sales_orders.release_order(c, SYSTEM, order_id)) == 4
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        assert pos["quantity_available"] == 5
        assert verify(conn).ok


def test_cancelled_order_cannot_allocate(db: Database) -> None:
    build_world(db)
    order_id = _order(db, [{"sku": "SKU-1", "quantity": 1}])
    with db.transaction() as conn:
        conn.exec_driver_sql(f"UPDATE sales_order SET status = 'cancelled' WHERE id = {order_id}")
    with pytest.raises(Conflict):
        db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))


def _status(db: Database, order_id: int) -> str:
    with db.read() as conn:
        return str(sales_orders.get_order(conn, SYSTEM, order_id)["status"])


def test_order_status_follows_what_its_lines_hold_after_every_action(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 4, "A-01")
    order_id = _order(db, [{"sku": "SKU-1", "quantity": 6}, {"sku": "SKU-2", "quantity": 2}])
    assert _status(db, order_id) == "open"
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert _status(db, order_id) == "partially_allocated"  # 4 of 6, nothing of SKU-2
    receive(db, "SKU-1", 2, "A-02")
    receive(db, "SKU-2", 2, "A-01")
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert _status(db, order_id) == "allocated"
    with db.read() as conn:
        first = min(conn.execute(sa.select(allocation.c.id)).scalars())
    # A counter pick: 1 of the first allocation's 4 units (3 released), the others in full.
    db.run(lambda c: sales_orders.pick_order(c, SYSTEM, order_id, {first: 1}))
    assert _status(db, order_id) == "partially_shipped"
    db.run(lambda c: sales_orders.release_order(c, SYSTEM, order_id))
    assert _status(db, order_id) == "partially_shipped"  # what left stays shipped
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    with db.read() as conn:
        lines = sales_orders.get_order(conn, SYSTEM, order_id)["lines"]
    assert [(ln["quantity_shipped"], ln["quantity_allocated"]) for ln in lines] == [(3, 3), (2, 0)]
    db.run(lambda c: sales_orders.pick_order(c, SYSTEM, order_id))
    assert _status(db, order_id) == "shipped"
    with db.read() as conn:
        assert verify(conn).ok


def test_releasing_an_untouched_order_returns_it_to_open(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    order_id = _order(db, [{"sku": "SKU-1", "quantity": 5}])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    db.run(lambda c: sales_orders.release_order(c, SYSTEM, order_id))
    assert _status(db, order_id) == "open"
