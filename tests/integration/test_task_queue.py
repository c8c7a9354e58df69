"""The task queue: tasks are created in one statement, handed out one operator at a time, and
confirmed exactly once — the second confirmation is a 409 with nothing posted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import location, move, site
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.shared.errors import Conflict, ValidationFailed
from stockpilot.tasks import service as tasks
from tests.support.world import build_world, receive


def _ids(db: Database) -> dict[str, int]:
    with db.read() as conn:
        wh1 = conn.execute(
            sa.select(site.c.id, site.c.company_id).where(site.c.code == "WH1")
        ).one()
        bins = dict(
            conn.execute(
                sa.select(location.c.code, location.c.id).where(location.c.site_id == wh1.id)
            ).all()
        )
        item_id = conn.execute(sa.text("SELECT id FROM item WHERE sku = 'SKU-1'")).scalar_one()
    return {"site": wh1.id, "owner": wh1.company_id, "item": item_id, **bins}


@pytest.fixture
def world(db: Database) -> dict[str, int]:
    build_world(db)
    receive(db, "SKU-1", 50, "A-02", "WH1")
    return _ids(db)


def _move_task(w: dict[str, int], quantity: int = 10) -> tasks.NewTask:
    return tasks.NewTask(
        type="move",
        site_id=w["site"],
        item_id=w["item"],
        quantity=quantity,
        from_location_id=w["A-02"],
        to_location_id=w["B-01"],
        owner_id=w["owner"],
    )


def test_a_task_is_confirmed_once_and_a_second_confirmation_is_a_conflict_posting_nothing(
    db: Database, world: dict[str, int]
) -> None:
    (task_id,) = db.run(lambda conn: tasks.create_tasks(conn, [_move_task(world)]))
    done = db.run(lambda conn: tasks.confirm_task(conn, SYSTEM, task_id, tasks.Confirmation()))
    assert done["status"] == "done" and done["confirmed_quantity"] == 10
    with db.read() as conn:
        moves_before = conn.execute(sa.select(sa.func.count()).select_from(move)).scalar_one()
    with pytest.raises(Conflict):
        db.run(lambda conn: tasks.confirm_task(conn, SYSTEM, task_id, tasks.Confirmation()))
    with db.read() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(move)).scalar_one() == moves_before
        )
        assert verify(conn).ok


def test_another_bin_than_the_directed_one_needs_a_reason(
    db: Database, world: dict[str, int]
) -> None:
    (task_id,) = db.run(lambda conn: tasks.create_tasks(conn, [_move_task(world)]))
    with pytest.raises(ValidationFailed) as refused:
        db.run(
            lambda conn: tasks.confirm_task(
                conn, SYSTEM, task_id, tasks.Confirmation(location="A-01")
            )
        )
    assert refused.value.field == "reason"
    open_task = db.run(lambda conn: tasks.get_task(conn, SYSTEM, task_id))
    assert open_task["status"] == "open"


def test_two_operators_asking_for_work_get_different_tasks(
    db: Database, world: dict[str, int]
) -> None:
    db.run(lambda conn: tasks.create_tasks(conn, [_move_task(world, 1), _move_task(world, 2)]))
    alice = Actor(user_id=101, name="alice", role="warehouse_operator")
    bob = Actor(user_id=102, name="bob", role="warehouse_operator")
    first = db.run(lambda conn: tasks.next_task(conn, alice, world["site"]))
    second = db.run(lambda conn: tasks.next_task(conn, bob, world["site"]))
    again = db.run(lambda conn: tasks.next_task(conn, alice, world["site"]))
    assert first is not None and second is not None and again is not None
    assert first["id"] != second["id"]
    assert again["id"] == first["id"]  # an assigned task stays the operator's until done
