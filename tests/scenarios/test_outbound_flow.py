"""The outbound procedure as the warehouse runs it: allocate an order, wave it, release the
wave, pick, come up short at the pick face, count the bin, replenish the face from reserve,
re-allocate the backorder, pick again, pack and ship."""

from __future__ import annotations

from stockpilot.ledger import positions
from stockpilot.ledger.verify import verify
from stockpilot.outbound import sales_orders, shipping
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM
from stockpilot.tasks import service as tasks
from tests.integration.outbound_world import (
    add_pick_face,
    add_route,
    ids,
    order,
    release,
    tasks_of,
    wave,
)
from tests.support.world import build_world, receive


def _confirm(db: Database, task_id: int, quantity: int | None = None) -> dict:
    return db.run(
        lambda c: tasks.confirm_task(c, SYSTEM, task_id, tasks.Confirmation(quantity=quantity))
    )


def test_allocate_wave_pick_short_count_replenish_pack_and_ship(db: Database) -> None:
    # The warehouse: a pick face A-01 (min 4, max 12) with 6 units, reserve in B-01.
    build_world(db)
    add_pick_face(db, "A-01", "SKU-1", 4, 12)
    receive(db, "SKU-1", 6, "A-01")
    receive(db, "SKU-1", 24, "B-01")
    add_route(db, "NORTH", "23:00")
    w = ids(db)

    # 1. The order arrives on today's truck and is allocated: the pick face first.
    order_id = order(db, [("SKU-1", 6)], "C2", route="NORTH", promised_date="2099-12-31")
    (line,) = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert (line.quantity_allocated, line.quantity_short) == (6, 0)

    # 2. The supervisor waves it and releases the wave: one pick task, and the face (which the
    #    pick will empty) gets a replenishment ranked ahead of it.
    release(db, wave(db, [order_id]))
    (pick,) = tasks_of(db, "pick")
    (refill,) = tasks_of(db, "replenish")
    assert pick.from_location_id == w["A-01"] and refill.priority > pick.priority

    # 3. The picker finds only 4 units in A-01: a short pick. 4 go to staging, the rest is
    #    released, the line says why, and the bin gets a count task.
    _confirm(db, pick.id, 4)
    view = _view(db, order_id)
    assert view["lines"][0]["short_cause"] == "pick_face_empty_reserve_has_stock"
    (count,) = tasks_of(db, "count")
    assert count.from_location_id == w["A-01"]

    # 4. The replenishment is done (reserve → face) and the backorder is re-allocated.
    _confirm(db, refill.id)
    run = db.run(lambda c: sales_orders.reallocate_backorders(c, SYSTEM, w["site"], [w["SKU-1"]]))
    assert run.quantity_allocated == 2

    # 5. A second wave picks the rest; the order is packed (2 cartons) and shipped.
    release(db, wave(db, [order_id]))
    for t in tasks_of(db, "pick", status="open"):
        _confirm(db, t.id)
    assert _view(db, order_id)["status"] == "picked"
    shipment_id = db.run(lambda c: shipping.ship_order(c, SYSTEM, order_id, cartons=2))

    # 6. Check: everything left, on time, nothing reserved, the ledger balances.
    view = _view(db, order_id)
    assert (view["status"], view["lines"][0]["quantity_shipped"]) == ("shipped", 6)
    with db.read() as conn:
        body = shipping.get_shipment(conn, SYSTEM, shipment_id)
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        report = verify(conn)
    assert (body["on_time"], sum(ln["quantity"] for ln in body["lines"])) == (True, 6)
    # 30 received − 6 shipped (the 2 the count will look for are still on the books).
    assert (pos["quantity_on_hand"], pos["quantity_allocated"]) == (24, 0)
    assert report.ok, report.drifts


def _view(db: Database, order_id: int) -> dict:
    with db.read() as conn:
        return sales_orders.get_order(conn, SYSTEM, order_id)
