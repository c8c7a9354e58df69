"""Allocation through the service: rank by route cut-off, priority, promise and age; FEFO
with the customer's shelf life; ship complete; substitutes; why each short line is short;
backorders served in rank order when stock arrives; every order line feeds demand history."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import sqlalchemy as sa

from stockpilot.ledger import positions
from stockpilot.ledger.verify import verify
from stockpilot.outbound import sales_orders
from stockpilot.outbound.allocation import allocate_orders
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import demand_history, sales_order_line, supplier
from stockpilot.persistence.warehouse_tables import purchase_order, purchase_order_line
from stockpilot.replenishment.run import load_demand, load_sites
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.clock import today
from tests.integration.outbound_world import (
    add_route,
    add_substitute,
    customer_terms,
    ids,
    order,
)
from tests.support.world import build_world, receive


def _allocated(db: Database, order_id: int) -> list[int]:
    with db.read() as conn:
        return [
            ln["quantity_allocated"]
            for ln in sales_orders.get_order(conn, SYSTEM, order_id)["lines"]
        ]


def _cause(db: Database, order_id: int, line_no: int = 1) -> str | None:
    with db.read() as conn:
        return sales_orders.get_order(conn, SYSTEM, order_id)["lines"][line_no - 1]["short_cause"]


def _run(db: Database, order_ids: list[int]) -> None:
    site_id = ids(db)["site"]
    db.run(lambda c: allocate_orders(c, site_id, order_ids))


def test_the_orders_own_priority_overrides_its_customers(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5)
    vip_customer = order(db, [("SKU-1", 5)], "C2")  # customer priority 1, order without its own
    urgent = order(db, [("SKU-1", 5)], "C2", priority=1, promised_date="2020-01-01")
    _run(db, [vip_customer, urgent])
    assert (_allocated(db, vip_customer), _allocated(db, urgent)) == ([0], [5])
    assert _cause(db, vip_customer) == "taken_by_higher_priority"


def test_priority_comes_before_promise_and_promise_before_age(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 4)
    oldest = order(db, [("SKU-1", 2)], "C1")
    promised = order(db, [("SKU-1", 2)], "C1", promised_date="2026-01-01")
    important = order(db, [("SKU-1", 2)], "C2")
    _run(db, [oldest, promised, important])
    assert [_allocated(db, o) for o in (oldest, promised, important)] == [[0], [2], [2]]


def test_a_same_day_route_commitment_is_served_first(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 3)
    add_route(db, "NORTH", "23:59")
    priority_one = order(db, [("SKU-1", 3)], "C2")
    on_todays_truck = order(db, [("SKU-1", 3)], "C1", route="NORTH", priority=5)
    _run(db, [priority_one, on_todays_truck])
    assert (_allocated(db, priority_one), _allocated(db, on_todays_truck)) == ([0], [3])


def test_fefo_skips_lots_shorter_lived_than_the_customer_requires(db: Database) -> None:
    build_world(db)
    customer_terms(db, "C1", min_shelf_life_days=200)
    receive(db, "LOT-1", 5, "A-02", lot="SOON", expiry_date=today() + timedelta(days=100))
    receive(db, "LOT-1", 5, "B-01", lot="LATER", expiry_date=today() + timedelta(days=300))
    receive(db, "LOT-1", 5, "A-01", lot="LATEST", expiry_date=today() + timedelta(days=400))
    order_id = order(db, [("LOT-1", 7)])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "LOT-1", "WH1")
    by_lot = {row["lot"]: row["quantity_allocated"] for row in pos["breakdown"]}
    assert by_lot == {"SOON": 0, "LATER": 5, "LATEST": 2}


def test_a_pick_face_is_taken_before_reserve_for_the_same_stock(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "B-01")  # reserve, received first
    receive(db, "SKU-1", 10, "A-01")  # the pick bin
    order_id = order(db, [("SKU-1", 4)])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
    by_bin = {row["location"]: row["quantity_allocated"] for row in pos["breakdown"]}
    assert by_bin == {"A-01": 4, "B-01": 0}


def test_a_ship_complete_customer_gets_the_whole_order_or_nothing(db: Database) -> None:
    build_world(db)
    customer_terms(db, "C1", ship_complete=True)
    receive(db, "SKU-1", 10)
    order_id = order(db, [("SKU-1", 5), ("SKU-2", 1)])
    result = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert [(r.quantity_allocated, r.quantity_short) for r in result] == [(0, 5), (0, 1)]
    with db.read() as conn:
        assert positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")["quantity_allocated"] == 0


def test_substitutes_are_allocated_for_customers_who_allow_them_and_offered_to_others(
    db: Database,
) -> None:
    build_world(db)
    add_substitute(db, "SKU-1", "SKU-2")
    receive(db, "SKU-1", 2)
    receive(db, "SKU-2", 10, "B-01")
    asks = order(db, [("SKU-1", 5)], "C1")
    result = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, asks))
    assert result[0].quantity_allocated == 2
    assert result[0].substitutes_offered == [{"sku": "SKU-2", "quantity_available": 3}]
    db.run(lambda c: sales_orders.release_order(c, SYSTEM, asks))
    customer_terms(db, "C1", allow_substitutes=True)
    result = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, asks))
    assert (result[0].quantity_allocated, result[0].quantity_short) == (5, 0)
    with db.read() as conn:
        assert positions.stock_position(conn, SYSTEM, "SKU-2", "WH1")["quantity_allocated"] == 3
        assert verify(conn).ok


def test_a_short_line_records_no_stock_or_a_blocking_status(db: Database) -> None:
    build_world(db)
    nothing = order(db, [("SKU-1", 1)])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, nothing))
    assert _cause(db, nothing) == "no_stock_at_site"
    receive(db, "SKU-2", 5, status="quarantine")
    blocked = order(db, [("SKU-2", 1)])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, blocked))
    assert _cause(db, blocked) == "blocking_status_only"


def test_a_short_line_waiting_for_a_late_receipt_says_so(db: Database) -> None:
    build_world(db)
    w = ids(db)

    def late_po(conn: sa.Connection) -> None:
        supplier_id = conn.execute(
            supplier.insert().values(code="S1", name="Supplier").returning(supplier.c.id)
        ).scalar_one()
        po_id = conn.execute(
            purchase_order.insert()
            .values(
                supplier_id=supplier_id,
                site_id=w["site"],
                status="confirmed",
                created_at=datetime(2026, 1, 1),
            )
            .returning(purchase_order.c.id)
        ).scalar_one()
        conn.execute(
            purchase_order_line.insert().values(
                order_id=po_id,
                line_no=1,
                item_id=w["SKU-1"],
                quantity=10,
                due_date=today() - timedelta(days=3),
            )
        )

    db.run(late_po)
    waiting = order(db, [("SKU-1", 2)], promised_date=(today() + timedelta(days=2)).isoformat())
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, waiting))
    assert _cause(db, waiting) == "waited_receipt_late"


def test_backorders_are_reallocated_in_priority_order_when_stock_arrives(db: Database) -> None:
    build_world(db)
    first_come = order(db, [("SKU-1", 4)], "C1")
    important = order(db, [("SKU-1", 4)], "C2")
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, first_come))
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, important))
    receive(db, "SKU-1", 6)
    w = ids(db)
    run = db.run(lambda c: sales_orders.reallocate_backorders(c, SYSTEM, w["site"], [w["SKU-1"]]))
    assert run.quantity_allocated == 6
    assert (_allocated(db, important), _allocated(db, first_come)) == ([4], [2])
    again = db.run(lambda c: sales_orders.reallocate_backorders(c, SYSTEM, w["site"], [w["SKU-1"]]))
    assert again.quantity_allocated == 0


def test_every_order_line_feeds_demand_history_once_with_its_channel(db: Database) -> None:
    build_world(db)
    order_id = order(
        db, [("SKU-1", 3), ("SKU-2", 7)], requested_date="2026-11-20", channel="ecommerce"
    )
    with db.read() as conn:
        rows = conn.execute(
            sa.select(
                demand_history.c.requested_date,
                demand_history.c.quantity,
                demand_history.c.source,
                demand_history.c.channel,
                demand_history.c.order_line_id,
            ).order_by(demand_history.c.id)
        ).all()
        line_ids = list(
            conn.execute(
                sa.select(sales_order_line.c.id)
                .where(sales_order_line.c.order_id == order_id)
                .order_by(sales_order_line.c.line_no)
            ).scalars()
        )
        demand = load_demand(conn, load_sites(conn))
        assert sales_orders.get_order(conn, SYSTEM, order_id)["channel"] == "ecommerce"
    assert [tuple(r) for r in rows] == [
        (date(2026, 11, 20), 3, "order", "ecommerce", line_ids[0]),
        (date(2026, 11, 20), 7, "order", "ecommerce", line_ids[1]),
    ]
    assert demand.select(pl.col("quantity").sum()).item() == 10  # not twice
