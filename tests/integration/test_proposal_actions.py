"""Planner actions: override with a reason, accept into draft documents, approve above limits,
and score overrides against what happened."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from stockpilot.governance.users import add_user, authenticate
from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import (
    proposal,
    proposal_action,
)
from stockpilot.persistence.tables import demand_history
from stockpilot.persistence.warehouse_tables import (
    purchase_order,
    purchase_order_line,
    transfer_order_line,
)
from stockpilot.replenishment import actions
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.shared.errors import Conflict, Forbidden, ValidationFailed
from tests.integration.test_planning_run import AS_OF, _network

LOOSE = actions.Thresholds(value=1e12, override_ratio=10.0)


def _user(db: Database, name: str, role: str) -> Actor:
    token = db.run(lambda c: add_user(c, SYSTEM, name, role)[1])
    with db.read() as conn:
        return authenticate(conn, token)


def _proposals(db: Database, kind: str) -> list[sa.Row]:
    with db.read() as conn:
        return list(
            conn.execute(
                sa.select(proposal)
                .where(proposal.c.kind == kind, proposal.c.status == "proposed")
                .order_by(proposal.c.id)
            ).all()
        )


def test_accepting_a_purchase_group_creates_one_draft_order_with_its_lines(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    buyer = _user(db, "bea", "buyer")
    ids = [p.id for p in _proposals(db, "purchase")]
    result = db.run(lambda c: actions.accept(c, buyer, ids, LOOSE))
    assert [d.document_type for d in result.documents] == ["purchase_order"]
    with db.read() as conn:
        lines = conn.execute(sa.select(purchase_order_line)).all()
        assert sorted(line.proposal_id for line in lines) == sorted(ids)
        assert conn.execute(sa.select(purchase_order.c.status)).scalar() == "draft"
        statuses = conn.execute(
            sa.select(proposal.c.status).where(proposal.c.id.in_(ids))
        ).scalars()
        assert set(statuses) == {"accepted"}
    with pytest.raises(Conflict):
        db.run(lambda c: actions.accept(c, buyer, ids, LOOSE))


def test_accepted_orders_count_as_on_order_in_the_next_run(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    ids = [p.id for p in _proposals(db, "purchase")] + [p.id for p in _proposals(db, "transfer")]
    db.run(lambda c: actions.accept(c, SYSTEM, ids, LOOSE))
    again = run_plan(db, as_of=AS_OF, actor=SYSTEM)
    assert again.proposals == 0


def test_override_needs_a_known_reason_and_is_recorded(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    target = _proposals(db, "transfer")[0]
    with pytest.raises(ValidationFailed) as err:
        db.run(lambda c: actions.override(c, SYSTEM, target.id, 5, "NOPE"))
    assert err.value.field == "reason_code"
    db.run(lambda c: actions.override(c, SYSTEM, target.id, 5, "COUNT", "promo ends"))
    with db.read() as conn:
        row = conn.execute(sa.select(proposal).where(proposal.c.id == target.id)).one()
        log = conn.execute(
            sa.select(proposal_action).where(proposal_action.c.proposal_id == target.id)
        ).one()
    assert (row.quantity, row.quantity_suggested) == (5, target.quantity_suggested)
    assert (log.quantity_before, log.quantity_after, log.reason_code) == (
        target.quantity,
        5,
        "COUNT",
    )


def test_large_groups_wait_for_a_second_person_to_approve(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    buyer = _user(db, "bea", "buyer")
    controller = _user(db, "carl", "inventory_controller")
    ids = [p.id for p in _proposals(db, "purchase")]
    strict = actions.Thresholds(value=1.0, override_ratio=0.5)
    result = db.run(lambda c: actions.accept(c, buyer, ids, strict))
    assert result.documents == [] and sorted(result.pending_approval) == sorted(ids)
    with pytest.raises(Forbidden):
        db.run(lambda c: actions.approve(c, buyer, ids))
    approved = db.run(lambda c: actions.approve(c, controller, ids))
    assert approved.documents[0].document_type == "purchase_order"


def test_transfer_acceptance_creates_a_draft_transfer_order(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    ids = [p.id for p in _proposals(db, "transfer")]
    db.run(lambda c: actions.accept(c, SYSTEM, ids, LOOSE))
    with db.read() as conn:
        assert len(conn.execute(sa.select(transfer_order_line)).all()) == len(ids)


def test_overrides_are_scored_against_the_demand_that_followed(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    target = next(p for p in _proposals(db, "transfer") if p.quantity > 20)
    db.run(lambda c: actions.override(c, SYSTEM, target.id, target.quantity * 3, "COUNT"))
    # What happened next: demand far below what the override assumed.
    db.run(
        lambda c: c.execute(
            demand_history.insert().values(
                item_id=target.item_id,
                site_id=target.site_id,
                requested_date=AS_OF + timedelta(days=3),
                quantity=1,
            )
        )
    )
    with db.read() as conn:
        assert actions.score_overrides(conn, SYSTEM, AS_OF).items == []  # horizon not over
        scores = actions.score_overrides(conn, SYSTEM, AS_OF + timedelta(days=120)).items
    assert len(scores) == 1
    assert scores[0].verdict == "worse"
    assert scores[0].actual_demand == 1.0


def test_override_scores_come_a_page_at_a_time(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    overridden = (_proposals(db, "transfer") + _proposals(db, "purchase"))[:3]
    assert len(overridden) == 3

    def override(conn: sa.Connection, proposal_id: int, quantity: int) -> object:
        return actions.override(conn, SYSTEM, proposal_id, quantity + 5, "COUNT")

    for p in overridden:
        db.run(partial(override, proposal_id=p.id, quantity=p.quantity))
    later = AS_OF + timedelta(days=400)
    with db.read() as conn:
        whole = actions.score_overrides(conn, SYSTEM, later)
        first = actions.score_overrides(conn, SYSTEM, later, limit=2)
        assert first.after_id is not None
        rest = actions.score_overrides(conn, SYSTEM, later, after_id=first.after_id, limit=2)
    assert whole.after_id is None and rest.after_id is None
    assert [s.proposal_id for s in whole.items] == sorted(p.id for p in overridden)
    assert first.items + rest.items == whole.items
