"""The kitting procedure as the warehouse runs it: declare a gift box's bill of material, see
how many the components make, take a customer's order for boxes there are none of yet,
assemble them for that order (the components reserved at once), allocate, pick and ship the
boxes, take one spare box apart again, and check the ledger."""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa

from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import ItemCreate
from stockpilot.kitting import kits, orders
from stockpilot.kitting.schemas import KitComponentIn, KitCreate, KitOrderCreate
from stockpilot.ledger.verify import verify
from stockpilot.outbound import sales_orders, shipping
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import balance, location
from stockpilot.shared.actor import SYSTEM
from stockpilot.tasks import service as tasks
from tests.integration.outbound_world import order, release, tasks_of, wave
from tests.support.world import build_world, receive

Confirmed = tasks.Confirmation()


def _available(db: Database) -> tuple[int, int]:
    with db.read() as conn:
        got = kits.kit_availability(conn, SYSTEM, "BOX-1", "WH1")
    return got["quantity_available"], got["quantity_buildable"]


def _at_kitting(db: Database) -> dict[str, int]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(balance.c.item_id, balance.c.quantity_on_hand)
            .join(location, location.c.id == balance.c.location_id)
            .where(location.c.code == "@KITTING", balance.c.quantity_on_hand != 0)
        ).all()
        skus = {r.id: r.sku for r in conn.execute(sa.text("SELECT id, sku FROM item"))}
    return {skus[i]: int(q) for i, q in rows}


def test_declare_a_kit_sell_it_assemble_to_order_pick_ship_and_take_one_apart(
    db: Database,
) -> None:
    # The warehouse: 20 SKU-1 in the pick face and reserve, 30 SKU-2 in B-01.
    build_world(db)
    receive(db, "SKU-1", 10, "A-01")
    receive(db, "SKU-1", 10, "A-02")
    receive(db, "SKU-2", 30, "B-01")

    # 1. The supervisor declares the gift box: 2 SKU-1 and 3 SKU-2 each.
    db.run(lambda c: catalog.create_item(c, SYSTEM, ItemCreate(sku="BOX-1")))
    bom = KitCreate(
        sku="BOX-1",
        components=[
            KitComponentIn(sku="SKU-1", quantity=2),
            KitComponentIn(sku="SKU-2", quantity=3),
        ],
    )
    db.run(lambda c: kits.create_kit(c, SYSTEM, bom))
    assert _available(db) == (0, 10)  # no box made yet, components for ten

    # 2. A customer orders 4 boxes: allocation finds none assembled.
    order_id = order(db, [("BOX-1", 4)])
    (line,) = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert (line.quantity_allocated, line.quantity_short) == (0, 4)

    # 3. The supervisor opens an assembly of 5 boxes for the order (one spare): the
    #    components are reserved at once, so nothing else can promise them.
    cmd = KitOrderCreate(kit="BOX-1", site="WH1", location="B-01", quantity=5, sales_order=order_id)
    kit_order = db.run(lambda c: orders.create_order(c, SYSTEM, cmd))
    assert _available(db) == (0, 5)

    # 4. The operator assembles them: components into @KITTING, boxes out into B-01.
    db.run(lambda c: orders.complete_order(c, SYSTEM, kit_order))
    assert _available(db) == (5, 5)
    assert _at_kitting(db) == {"SKU-1": 10, "SKU-2": 15, "BOX-1": -5}

    # 5. The order is allocated again, waved, picked and shipped like any other.
    (line,) = db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    assert (line.quantity_allocated, line.quantity_short) == (4, 0)
    release(db, wave(db, [order_id]))
    for pick in tasks_of(db, "pick", status="open"):
        db.run(partial(tasks.confirm_task, actor=SYSTEM, task_id=pick.id, confirmation=Confirmed))
    db.run(lambda c: shipping.ship_order(c, SYSTEM, order_id, cartons=1))
    assert _available(db) == (1, 5)

    # 6. The spare box is taken apart: its components go back to B-01.
    spare = KitOrderCreate(
        kit="BOX-1", kind="disassemble", site="WH1", location="B-01", quantity=1, complete=True
    )
    db.run(lambda c: orders.create_order(c, SYSTEM, spare))
    assert _available(db) == (0, 6)
    assert _at_kitting(db) == {"SKU-1": 8, "SKU-2": 12, "BOX-1": -4}

    # 7. Check: the ledger balances, nothing is left reserved for the kit orders.
    with db.read() as conn:
        assert verify(conn).ok
        shown = orders.get_order(conn, SYSTEM, kit_order)
    assert shown["state"] == "done" and shown["sales_order"] == order_id
    assert all(c["quantity_reserved"] == 0 for c in shown["components"])
