"""Adjustments as the controller runs them: small ones post at once, large ones wait for a
second person with the right to approve, every step leaves an audit row."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from stockpilot.adjustments import service as adjustments
from stockpilot.counting import policy
from stockpilot.governance.approvals import ApprovalRefused
from stockpilot.ledger import positions
from stockpilot.ledger.operations import StockLine
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import audit_log, move
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.shared.errors import Conflict
from tests.support.world import build_world, receive

CLERK = Actor(user_id=921, name="ines", role="warehouse_supervisor")
CONTROLLER = Actor(user_id=922, name="karl", role="inventory_controller")
OPERATOR = Actor(user_id=923, name="omar", role="warehouse_operator")


def _on_hand(db: Database) -> int:
    with db.read() as conn:
        body = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1", location_code="A-02")
        return int(body["quantity_on_hand"])


def _adjust(db: Database, actor: Actor, quantity: int, reason: str = "DAMAGE") -> tuple[int, dict]:
    line = StockLine("SKU-1", Decimal(quantity), "A-02")
    return db.run(
        lambda c: adjustments.request_adjustment(c, actor, "WH1", [line], reason_code=reason)
    )


def _moves(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(move)).scalar_one())


def test_an_adjustment_beyond_the_threshold_waits_for_a_second_person(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 50, "A-02")
    cmd = policy.ControlPolicyUpdate(adjustment_quantity=5)
    db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))

    # 1. Within the threshold: posted at once, as an adjustment document.
    status, small = _adjust(db, CLERK, -3)
    assert (status, small["status"]) == (201, "posted") and _on_hand(db) == 47

    # 2. Beyond it: held, nothing posted.
    before = _moves(db)
    status, held = _adjust(db, CLERK, -20)
    assert (status, held["status"], held["quantity"]) == (202, "pending", 20)
    assert _moves(db) == before and _on_hand(db) == 47

    # 3. The requester cannot approve it, nor can a role without the right.
    with pytest.raises(ApprovalRefused):
        db.run(lambda c: adjustments.approve_adjustment(c, CLERK, held["id"]))
    with pytest.raises(ApprovalRefused):
        db.run(lambda c: adjustments.approve_adjustment(c, OPERATOR, held["id"]))
    assert _moves(db) == before

    # 4. The controller approves: it posts now, once.
    approved = db.run(lambda c: adjustments.approve_adjustment(c, CONTROLLER, held["id"], "ok"))
    assert (approved["status"], approved["decided_by"]) == ("posted", CONTROLLER.user_id)
    assert _on_hand(db) == 27
    with pytest.raises(Conflict):
        db.run(lambda c: adjustments.approve_adjustment(c, CONTROLLER, held["id"]))
    assert _on_hand(db) == 27

    # 5. A rejected one never posts.
    _, other = _adjust(db, CLERK, 10, "FOUND")
    rejected = db.run(lambda c: adjustments.reject_adjustment(c, CONTROLLER, other["id"], "no"))
    assert rejected["status"] == "rejected" and _on_hand(db) == 27

    with db.read() as conn:
        assert verify(conn).ok
        trail = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.entity_id, audit_log.c.user_id)
            .where(audit_log.c.entity_type == "adjustment")
            .order_by(audit_log.c.id)
        ).all()
        documents = set(
            conn.execute(
                sa.select(move.c.document_id).where(move.c.document_type == "adjustment")
            ).scalars()
        )
    steps = [(a, u) for a, e, u in trail if e == str(held["id"])]
    assert steps == [
        ("adjustment.requested", CLERK.user_id),
        ("adjustment.approved", CONTROLLER.user_id),
        ("stock.adjustment", CONTROLLER.user_id),
    ]
    assert documents == {small["adjustment"], held["id"]}


def test_without_thresholds_an_adjustment_posts_at_once_as_before(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-02")
    status, body = _adjust(db, CLERK, -5)
    assert (status, body["quantity"], _on_hand(db)) == (201, 5, 0)
