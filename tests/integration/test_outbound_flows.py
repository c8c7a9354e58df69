"""Waves, pick confirmation, pick-face replenishment and shipping through the services."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stockpilot.ledger import positions
from stockpilot.ledger.verify import verify
from stockpilot.network import service as network
from stockpilot.outbound import picking, replenishment, sales_orders, shipping
from stockpilot.outbound.schemas import WaveCreate
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import location, move
from stockpilot.persistence.warehouse_tables import shipment, wave_order
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import Conflict, ValidationFailed
from stockpilot.tasks import service as tasks
from tests.integration.outbound_world import (
    add_pick_face,
    add_route,
    customer_terms,
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


def _order_view(db: Database, order_id: int) -> dict:
    with db.read() as conn:
        return sales_orders.get_order(conn, SYSTEM, order_id)


def _moves(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(move)).scalar_one())


def test_release_creates_pick_tasks_from_the_allocated_bins_to_staging_in_walk_order(
    db: Database,
) -> None:
    build_world(db)
    receive(db, "SKU-1", 3, "B-01")
    receive(db, "SKU-1", 3, "A-02")
    add_route(db, "NORTH", "23:30")
    order_id = order(db, [("SKU-1", 6)], route="NORTH")
    wave_id = wave(db, [order_id])
    summary = release(db, wave_id)
    picks = tasks_of(db, "pick", wave_id=wave_id)
    w = ids(db)
    assert summary["pick_tasks"] == 2 and summary["pick_lists_created"] == 1
    assert [(t.from_location_id, t.sequence, t.quantity) for t in picks] == [
        (w["A-02"], 1, 3),
        (w["B-01"], 2, 3),
    ]
    with db.read() as conn:
        staging = conn.execute(
            sa.select(location.c.kind).where(location.c.id == picks[0].to_location_id)
        ).scalar_one()
    assert staging == "staging"
    assert all(t.allocation_id is not None and t.due_at.strftime("%H:%M") == "23:30" for t in picks)
    with pytest.raises(Conflict):
        release(db, wave_id)
    assert len(tasks_of(db, "pick", wave_id=wave_id)) == 2


def test_an_order_rides_in_one_wave_and_only_of_its_own_site(db: Database) -> None:
    build_world(db)
    first = order(db, [("SKU-1", 1)])
    other_site = order(db, [("SKU-1", 1)], site="WH2")
    wave(db, [first])
    with pytest.raises(Conflict) as busy:
        wave(db, [first])
    assert busy.value.field == "sales_orders[0]"
    with pytest.raises(ValidationFailed) as elsewhere:
        wave(db, [other_site])
    assert elsewhere.value.field == "sales_orders[0]"


def test_batch_picking_gives_each_order_a_slot_and_zone_picking_a_list_per_zone(
    db: Database,
) -> None:
    build_world(db)

    def zoned_bins(conn: sa.Connection) -> None:
        for code, zone_code in (("Z1-01", "Z1"), ("Z2-01", "Z2")):
            network.create_location(conn, SYSTEM, "WH1", code, "storage", zone_code=zone_code)

    db.run(zoned_bins)
    receive(db, "SKU-1", 10, "Z1-01")
    receive(db, "SKU-2", 10, "Z2-01")
    orders = [order(db, [("SKU-1", 1), ("SKU-2", 1)]) for _ in range(3)]
    batch = wave(db, orders, "batch", cart_size=2)
    release(db, batch)
    with db.read() as conn:
        slots = conn.execute(
            sa.select(wave_order.c.order_id, wave_order.c.pick_list, wave_order.c.slot)
            .where(wave_order.c.wave_id == batch)
            .order_by(wave_order.c.order_id)
        ).all()
    assert [(p, s) for _, p, s in slots] == [(1, 1), (1, 2), (2, 1)]
    more = [order(db, [("SKU-1", 1), ("SKU-2", 1)]) for _ in range(2)]
    zoned = wave(db, more, "zone")
    release(db, zoned)
    picks = tasks_of(db, "pick", wave_id=zoned)
    lists = {t.pick_list: {t.zone_id for t in picks if t.pick_list == t.pick_list} for t in picks}
    assert len(lists) == 2
    assert {frozenset({t.item_id for t in picks if t.pick_list == n}) for n in lists} == {
        frozenset({ids(db)["SKU-1"]}),
        frozenset({ids(db)["SKU-2"]}),
    }


def test_a_confirmed_pick_posts_to_staging_once(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-02")
    order_id = order(db, [("SKU-1", 5)])
    release(db, wave(db, [order_id]))
    (pick,) = tasks_of(db, "pick")
    _confirm(db, pick.id)
    assert _order_view(db, order_id)["status"] == "picked"
    before = _moves(db)
    with pytest.raises(Conflict):
        _confirm(db, pick.id)
    assert _moves(db) == before
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        assert verify(conn).ok
    at = {r["location"]: (r["quantity_on_hand"], r["quantity_allocated"]) for r in pos["breakdown"]}
    assert at["STAGE-OUT"] == (5, 0) and at.get("A-02", (0, 0)) == (0, 0)


def test_a_short_pick_posts_what_was_picked_releases_the_rest_and_raises_a_count(
    db: Database,
) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    receive(db, "SKU-1", 20, "B-01")
    order_id = order(db, [("SKU-1", 5)])
    release(db, wave(db, [order_id]))
    (pick,) = tasks_of(db, "pick")
    assert pick.from_location_id == ids(db)["A-01"]  # the pick face first
    done = _confirm(db, pick.id, 3)
    (count,) = tasks_of(db, "count")
    assert done["follow_up_tasks"] == [count.id]
    assert (count.from_location_id, count.quantity) == (pick.from_location_id, 2)
    line = _order_view(db, order_id)["lines"][0]
    assert (line["quantity_picked"], line["quantity_allocated"]) == (3, 0)
    assert line["short_cause"] == "pick_face_empty_reserve_has_stock"
    with db.read() as conn:
        assert positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")["quantity_allocated"] == 0
        assert verify(conn).ok


def test_a_pick_list_is_confirmed_in_one_request_all_or_nothing(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-02")
    orders = [order(db, [("SKU-1", 2)]) for _ in range(3)]
    release(db, wave(db, orders, "batch"))
    picks = tasks_of(db, "pick")
    _confirm(db, picks[0].id)
    before = _moves(db)
    with pytest.raises(Conflict):
        db.run(lambda c: picking.confirm_picks(c, SYSTEM, [(t.id, None) for t in picks]))
    assert _moves(db) == before
    done = db.run(
        lambda c: picking.confirm_picks(c, SYSTEM, [(picks[1].id, None), (picks[2].id, 1)])
    )
    assert (done["confirmed"], done["quantity_picked"], done["quantity_short"]) == (2, 3, 1)
    assert len(done["count_tasks"]) == 1
    with db.read() as conn:
        assert verify(conn).ok


def test_shipping_posts_the_picked_stock_to_the_customer_and_closes_the_order(
    db: Database,
) -> None:
    build_world(db)
    receive(db, "SKU-1", 8, "A-02")
    order_id = order(db, [("SKU-1", 5)], promised_date="2099-01-01")
    release(db, wave(db, [order_id]))
    for t in tasks_of(db, "pick"):
        _confirm(db, t.id)
    shipment_id = db.run(lambda c: shipping.ship_order(c, SYSTEM, order_id, cartons=2))
    view = _order_view(db, order_id)
    assert view["status"] == "shipped" and view["shipped_at"] is not None
    assert view["lines"][0]["quantity_shipped"] == 5
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        body = shipping.get_shipment(conn, SYSTEM, shipment_id)
        assert verify(conn).ok
    assert (pos["quantity_on_hand"], pos["quantity_allocated"]) == (3, 0)
    assert (body["on_time"], body["cartons"], body["lines"][0]["quantity"]) == (True, 2, 5)
    assert "SKU-1" in shipping.packing_list_csv(body).splitlines()[1]
    assert "<table>" in shipping.packing_list_html(body)
    with pytest.raises(Conflict):
        db.run(lambda c: shipping.ship_order(c, SYSTEM, order_id))


def test_a_ship_complete_order_with_unpicked_lines_is_refused_naming_them(db: Database) -> None:
    build_world(db)
    customer_terms(db, "C1", ship_complete=True)
    receive(db, "SKU-1", 5, "A-02")
    receive(db, "SKU-2", 5, "B-01")
    order_id = order(db, [("SKU-1", 5), ("SKU-2", 5)])
    release(db, wave(db, [order_id]))
    first = tasks_of(db, "pick")[0]
    _confirm(db, first.id)
    with pytest.raises(Conflict) as refused:
        db.run(lambda c: shipping.ship_order(c, SYSTEM, order_id))
    assert refused.value.field == "lines" and refused.value.extra["lines"] == [2]
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(shipment)).scalar_one() == 0


def test_a_partial_shipment_leaves_nothing_allocated_for_the_shipped_lines(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-02")
    receive(db, "SKU-1", 5, "B-01")
    order_id = order(db, [("SKU-1", 10)])
    release(db, wave(db, [order_id]))
    first, _second = tasks_of(db, "pick")
    _confirm(db, first.id)
    db.run(lambda c: shipping.ship_order(c, SYSTEM, order_id))
    view = _order_view(db, order_id)
    assert view["status"] == "partially_shipped"
    assert (view["lines"][0]["quantity_shipped"], view["lines"][0]["quantity_allocated"]) == (5, 0)
    assert tasks_of(db, "pick")[1].status == "cancelled"
    with db.read() as conn:
        assert positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")["quantity_allocated"] == 0
        assert verify(conn).ok


def test_released_demand_below_a_faces_min_creates_a_replenishment_ahead_of_its_picks(
    db: Database,
) -> None:
    build_world(db)
    add_pick_face(db, "A-01", "SKU-1", 5, 20)
    receive(db, "SKU-1", 8, "A-01")
    receive(db, "SKU-1", 50, "B-01")
    order_id = order(db, [("SKU-1", 6)], "C2")
    release(db, wave(db, [order_id]))
    (pick,) = tasks_of(db, "pick")
    (refill,) = tasks_of(db, "replenish")
    w = ids(db)
    assert (refill.from_location_id, refill.to_location_id) == (w["B-01"], w["A-01"])
    assert refill.quantity == 18  # up to max: 20 − (8 − 6)
    assert refill.priority > pick.priority
    with db.read() as conn:
        nxt = tasks.next_task(conn, SYSTEM, w["site"])
    assert nxt is not None and nxt["id"] == refill.id


def test_top_off_refills_faces_below_min_once(db: Database) -> None:
    build_world(db)
    add_pick_face(db, "A-01", "SKU-1", 10, 30)
    receive(db, "SKU-1", 4, "A-01")
    receive(db, "SKU-1", 100, "B-01")
    (task_id,) = db.run(lambda c: replenishment.top_off(c, SYSTEM, "WH1"))
    assert db.run(lambda c: replenishment.top_off(c, SYSTEM, "WH1")) == []
    _confirm(db, task_id)
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        assert verify(conn).ok
    at = {r["location"]: r["quantity_on_hand"] for r in pos["breakdown"]}
    assert at["A-01"] == 30


def test_a_counter_pick_is_refused_for_an_order_picked_by_wave_tasks(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-02")
    order_id = order(db, [("SKU-1", 5)])
    release(db, wave(db, [order_id]))
    before = _moves(db)
    with pytest.raises(Conflict):
        db.run(lambda c: sales_orders.pick_order(c, SYSTEM, order_id))
    assert _moves(db) == before


def test_wave_command_names_a_bad_method() -> None:
    with pytest.raises(Exception) as bad:
        WaveCreate.model_validate({"site": "WH1", "sales_orders": [1], "method": "fast"})
    assert "method" in str(bad.value)


def test_stockpilot_tasks_top_off_creates_the_replenishments_from_the_command_line(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from stockpilot.cli.main import app

    build_world(db)
    add_pick_face(db, "A-01", "SKU-1", 10, 30)
    receive(db, "SKU-1", 100, "B-01")
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["tasks", "top-off", "--site", "WH1"])
    assert result.exit_code == 0, result.output
    assert "1 replenishment task(s) created at WH1" in result.output
    assert [t.quantity for t in tasks_of(db, "replenish")] == [30]
    refused = CliRunner().invoke(app, ["tasks", "top-off", "--site", "NOPE"])
    assert refused.exit_code == 1


def test_allocated_demand_below_a_faces_min_asks_for_its_replenishment_before_any_wave(
    db: Database,
) -> None:
    build_world(db)
    add_pick_face(db, "A-01", "SKU-1", 5, 20)
    receive(db, "SKU-1", 8, "A-01")
    receive(db, "SKU-1", 50, "B-01")
    order_id = order(db, [("SKU-1", 6)])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    (refill,) = tasks_of(db, "replenish")
    assert (refill.to_location_id, refill.quantity) == (ids(db)["A-01"], 18)
    release(db, wave(db, [order_id]))
    (pick,) = tasks_of(db, "pick")
    (lifted,) = tasks_of(db, "replenish")  # not a second one: lifted above the new pick
    assert lifted.id == refill.id and lifted.priority > pick.priority


def test_waves_are_planned_by_route_and_an_order_already_waved_is_left_out(db: Database) -> None:
    from stockpilot.outbound import waves as wave_service
    from stockpilot.outbound.schemas import WavePlan

    build_world(db)
    add_route(db, "NORTH", "15:00")
    add_route(db, "SOUTH", "17:00")
    north = [order(db, [("SKU-1", 1)], route="NORTH") for _ in range(2)]
    south = order(db, [("SKU-2", 1)], route="SOUTH")
    already = order(db, [("SKU-1", 1)], route="SOUTH")
    wave(db, [already])
    planned = db.run(
        lambda c: wave_service.plan_waves(c, SYSTEM, WavePlan(site="WH1", by=["route"]))
    )
    with db.read() as conn:
        members = [wave_service.get_wave(conn, SYSTEM, w)["sales_orders"] for w in planned]
    assert members == [north, [south]]
