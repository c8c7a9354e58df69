"""Concurrent approvals of the same counts and of the same held adjustments, and concurrent
confirmations of the same count tasks: every variance posts exactly once, no drift."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from stockpilot.adjustments import service as adjustments
from stockpilot.counting import policy
from stockpilot.counting import service as counting
from stockpilot.ledger.operations import StockLine
from stockpilot.persistence.control_tables import count_line
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import move
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.tasks import service as tasks
from tests.integration.test_races import _balances_sane, race, race_db  # noqa: F401
from tests.support.world import build_world, receive

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]

REQUESTER = Actor(user_id=801, name="req", role="warehouse_supervisor")
APPROVERS = [Actor(user_id=810 + n, name=f"sup{n}", role="warehouse_supervisor") for n in range(4)]
COUNTERS = [Actor(user_id=820 + n, name=f"op{n}", role="warehouse_operator") for n in range(3)]


def _adjusted(db: Database) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(move.c.quantity), 0)).where(
                    move.c.document_type == "adjustment"
                )
            ).scalar_one()
        )


def _confirm(db: Database, actor: Actor, task_id: int, quantity: int) -> Any:
    done = tasks.Confirmation(quantity=quantity)
    return db.run(lambda c: tasks.confirm_task(c, actor, task_id, done))


def _count(db: Database, bin_code: str) -> dict[str, Any]:
    return db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", [bin_code]))


def _approve_count(db: Database, actor: Actor, count_id: int) -> Any:
    return db.run(lambda c: counting.approve_count(c, actor, count_id))


def _approve_adjustment(db: Database, actor: Actor, adjustment_id: int) -> Any:
    return db.run(lambda c: adjustments.approve_adjustment(c, actor, adjustment_id))


def test_racing_count_confirmations_and_approvals_post_each_variance_once(
    race_db: Database,  # noqa: F811
) -> None:
    build_world(race_db)
    for bin_code in ("A-01", "A-02", "B-01"):
        receive(race_db, "SKU-1", 10, bin_code)
    counts = [_count(race_db, b) for b in ("A-01", "A-02", "B-01")]
    # Each task confirmed by three operators at once: one wins, each 2 short.
    workers: list[Callable[[], Any]] = [
        partial(_confirm, race_db, op, count["tasks"][0], 8) for count in counts for op in COUNTERS
    ]
    result = race(workers)
    assert all(type(e).__name__ == "Conflict" for e in result.errors), result.errors
    assert len(result.values) == 3
    # Each count approved by four supervisors at once: one posts.
    approvals: list[Callable[[], Any]] = [
        partial(_approve_count, race_db, a, count["id"]) for count in counts for a in APPROVERS
    ]
    result = race(approvals)
    assert all(type(e).__name__ == "Conflict" for e in result.errors), result.errors
    assert _adjusted(race_db) == 6
    with race_db.read() as conn:
        states = set(conn.execute(sa.select(count_line.c.state)).scalars())
        _balances_sane(conn)
    assert states == {"posted"}


def test_racing_approvals_of_a_held_adjustment_post_it_once(
    race_db: Database,  # noqa: F811
) -> None:
    build_world(race_db)
    receive(race_db, "SKU-1", 50, "A-02")
    cmd = policy.ControlPolicyUpdate(adjustment_quantity=1)
    race_db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))
    line = StockLine("SKU-1", Decimal(-5), "A-02")
    held = [
        race_db.run(
            lambda c: adjustments.request_adjustment(
                c, REQUESTER, "WH1", [line], reason_code="DAMAGE"
            )
        )[1]
        for _ in range(3)
    ]
    workers: list[Callable[[], Any]] = [
        partial(_approve_adjustment, race_db, a, h["id"]) for h in held for a in APPROVERS
    ]
    result = race(workers)
    assert all(type(e).__name__ == "Conflict" for e in result.errors), result.errors
    assert len(result.values) == 3
    assert _adjusted(race_db) == 15
    with race_db.read() as conn:
        _balances_sane(conn)


def _return(db: Database, quantity: int) -> Any:
    from stockpilot.returns import service as returns
    from stockpilot.returns.schemas import ReturnCreate

    cmd = ReturnCreate.model_validate(
        {"site": "WH1", "customer": "C1", "lines": [{"sku": "SKU-1", "quantity": quantity}]}
    )
    return db.run(lambda c: returns.create_return(c, REQUESTER, cmd))


def test_racing_returns_never_bring_back_more_than_was_shipped(
    race_db: Database,  # noqa: F811
) -> None:
    from stockpilot.persistence.control_tables import return_line
    from tests.support.shipped import ship

    build_world(race_db)
    receive(race_db, "SKU-1", 20, "A-02")
    ship(race_db, "SKU-1", 5)
    result = race([partial(_return, race_db, 2) for _ in range(6)])
    assert all(type(e).__name__ == "ValidationFailed" for e in result.errors), result.errors
    with race_db.read() as conn:
        authorised = conn.execute(sa.select(sa.func.sum(return_line.c.quantity))).scalar_one()
    assert (len(result.values), authorised) == (2, 4)
