"""Concurrent pick confirmations and wave releases of the same item: no move lost or doubled,
no drift, nothing allocated twice."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from stockpilot.outbound import picking
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import allocation, balance, move, sales_order_line
from stockpilot.persistence.warehouse_tables import task
from stockpilot.shared.actor import SYSTEM
from stockpilot.tasks import service as tasks
from tests.integration.outbound_world import order, release, tasks_of, wave
from tests.integration.test_races import _balances_sane, race, race_db  # noqa: F401
from tests.support.world import build_world, receive

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]


def _confirm(db: Database, task_id: int) -> int:
    done = db.run(lambda c: tasks.confirm_task(c, SYSTEM, task_id, tasks.Confirmation()))
    return int(done["confirmed_quantity"])


def test_racing_confirmations_of_the_same_picks_post_each_exactly_once(
    race_db: Database,  # noqa: F811
) -> None:
    build_world(race_db)
    receive(race_db, "SKU-1", 40, "A-02")
    orders = [order(race_db, [("SKU-1", 2)]) for _ in range(8)]
    release(race_db, wave(race_db, orders))
    picks = tasks_of(race_db, "pick")
    workers: list[Callable[[], Any]] = [
        partial(_confirm, race_db, t.id) for t in picks for _ in range(3)
    ]
    workers += [partial(picking_batch, race_db, [t.id for t in picks[:4]]) for _ in range(2)]
    result = race(workers)
    assert all(type(e).__name__ == "Conflict" for e in result.errors), result.errors
    with race_db.read() as conn:
        moved = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(move.c.quantity), 0)).where(
                move.c.document_type.in_(("task_pick", "pick_list"))
            )
        ).scalar_one()
        done = conn.execute(
            sa.select(sa.func.count())
            .select_from(task)
            .where(task.c.type == "pick", task.c.status == "done")
        ).scalar_one()
        picked = conn.execute(
            sa.select(sa.func.sum(sales_order_line.c.quantity_picked))
        ).scalar_one()
        _balances_sane(conn)
    assert (moved, done, picked) == (16, 8, 16)


def picking_batch(db: Database, ids: list[int]) -> object:
    return db.run(lambda c: picking.confirm_picks(c, SYSTEM, [(i, None) for i in ids]))


def test_racing_wave_releases_of_the_same_item_never_allocate_a_unit_twice(
    race_db: Database,  # noqa: F811
) -> None:
    build_world(race_db)
    receive(race_db, "SKU-1", 10, "A-02")
    receive(race_db, "SKU-1", 5, "B-01")
    waves = [wave(race_db, [order(race_db, [("SKU-1", 3)])]) for _ in range(8)]
    workers: list[Callable[[], Any]] = [partial(release, race_db, w) for w in waves for _ in (1, 2)]
    result = race(workers)
    assert all(type(e).__name__ == "Conflict" for e in result.errors), result.errors
    assert len(result.values) == 8
    with race_db.read() as conn:
        allocated = conn.execute(
            sa.select(sa.func.sum(allocation.c.quantity)).where(allocation.c.state == "open")
        ).scalar_one()
        reserved = conn.execute(
            sa.select(sa.func.sum(balance.c.quantity_allocated)).where(
                balance.c.is_virtual.is_(False)
            )
        ).scalar_one()
        picks = conn.execute(
            sa.select(sa.func.sum(task.c.quantity)).where(task.c.type == "pick")
        ).scalar_one()
        _balances_sane(conn)
    assert allocated == reserved == picks == 15
