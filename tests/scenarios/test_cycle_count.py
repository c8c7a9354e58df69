"""Cycle counting as the warehouse runs it: a supervisor asks for a count, operators count
blind from the task queue while picking and receiving go on in the same bin, a variance
beyond tolerance is recounted by another operator, a supervisor other than the requester
approves, and the variance posts as an adjustment equal to the true difference."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from stockpilot.counting import policy, programs
from stockpilot.counting import service as counting
from stockpilot.governance.approvals import ApprovalRefused
from stockpilot.ledger import positions
from stockpilot.ledger.verify import verify
from stockpilot.persistence.control_tables import adjustment, count_line
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import audit_log, move
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.shared.errors import Forbidden
from stockpilot.tasks import service as tasks
from tests.integration.outbound_world import order, release, tasks_of, wave
from tests.support.shipped import confirm
from tests.support.world import build_world, receive

REQUESTER = Actor(user_id=901, name="rita", role="warehouse_supervisor")
APPROVER = Actor(user_id=902, name="sam", role="warehouse_supervisor")
COUNTER = Actor(user_id=903, name="olga", role="warehouse_operator")
RECOUNTER = Actor(user_id=904, name="piet", role="warehouse_operator")


def _on_hand(db: Database, location: str) -> int:
    with db.read() as conn:
        body = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1", location_code=location)
        return int(body["quantity_on_hand"])


def _count_task(db: Database, actor: Actor, quantity: int) -> dict[str, Any]:
    """The operator asks the queue for a count task and confirms what they found."""
    found = db.run(lambda c: tasks.next_task(c, actor, _site(db), task_type="count"))
    assert found is not None and found["quantity"] is None  # blind: no expected quantity
    done = tasks.Confirmation(location=found["from_location"], quantity=quantity)
    return db.run(lambda c: tasks.confirm_task(c, actor, found["id"], done))


def _site(db: Database) -> int:
    from stockpilot.persistence.tables import site

    with db.read() as conn:
        return int(conn.execute(sa.select(site.c.id).where(site.c.code == "WH1")).scalar_one())


def _pick(db: Database, quantity: int) -> None:
    """Picking goes on in the bin being counted: an order, its wave, its pick confirmed."""
    order_id = order(db, [("SKU-1", quantity)])
    release(db, wave(db, [order_id]))
    for t in tasks_of(db, "pick", status="open"):
        confirm(db, int(t.id))


def test_a_count_with_picks_and_receipts_in_the_bin_posts_the_true_difference(
    db: Database,
) -> None:
    # The bin A-02 holds 20 in the ledger; 3 went missing some time ago (physically 17).
    build_world(db)
    receive(db, "SKU-1", 20, "A-02")
    missing = 3

    # 1. The supervisor asks for a count of A-02: one blind task for its one stock key.
    count = db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", ["A-02"]))
    assert count["status"] == "open" and len(count["tasks"]) == 1

    # 2. Work goes on while the count is open: 4 are picked, 6 received into the bin.
    _pick(db, 4)
    receive(db, "SKU-1", 6, "A-02")
    assert _on_hand(db, "A-02") == 22  # the ledger; physically 22 - 3 = 19

    # 3. The operator counts what is there (19); the ledger held 22 at that moment.
    done = _count_task(db, COUNTER, 22 - missing)
    assert done["count"] == count["id"] and done["quantity"] is None

    # 4. More picking before the supervisor gets to it: the bin moves on.
    _pick(db, 2)
    assert _on_hand(db, "A-02") == 20

    # 5. The requester cannot approve their own count; another supervisor can.
    with pytest.raises(ApprovalRefused):
        db.run(lambda c: counting.approve_count(c, REQUESTER, count["id"]))
    with pytest.raises(ApprovalRefused):  # nor the counter, whatever their role
        db.run(lambda c: counting.approve_count(c, COUNTER, count["id"]))
    approved = db.run(lambda c: counting.approve_count(c, APPROVER, count["id"]))
    (line,) = approved["lines"]
    assert (line["quantity_expected"], line["quantity_counted"]) == (22, 19)
    assert line["quantity_variance"] == -missing and line["approved_by"] == APPROVER.user_id
    assert approved["status"] == "closed"

    # 6. The ledger now says what the bin physically holds: 20 - 3 = 17, and nothing drifted.
    assert _on_hand(db, "A-02") == 17
    with db.read() as conn:
        assert verify(conn).ok
        posted = conn.execute(
            sa.select(sa.func.sum(move.c.quantity)).where(
                move.c.document_type == "adjustment", move.c.reason_code == "COUNT"
            )
        ).scalar_one()
        doc = conn.execute(sa.select(adjustment)).one()
        actions = set(conn.execute(sa.select(audit_log.c.action)).scalars())
    assert posted == missing
    assert (doc.source, doc.status, doc.decided_by) == ("count", "posted", APPROVER.user_id)
    assert {"count.created", "task.count.confirmed", "count.approved", "adjustment.posted"} <= (
        actions
    )


def test_a_variance_beyond_tolerance_is_recounted_by_another_operator(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 20, "A-02")
    cmd = policy.ControlPolicyUpdate(recount_quantity=1, approval_quantity=5, approval_value=None)
    db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))
    count = db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", ["A-02"]))

    # The first count is 3 short: beyond the recount tolerance of 1.
    first = _count_task(db, COUNTER, 17)
    (recount_id,) = first["follow_up_tasks"]
    # The queue never hands the recount to the first counter, who may not confirm it either.
    assert db.run(lambda c: tasks.next_task(c, COUNTER, _site(db), task_type="count")) is None
    with pytest.raises(Forbidden):
        db.run(
            lambda c: tasks.confirm_task(c, COUNTER, recount_id, tasks.Confirmation(quantity=17))
        )
    assert _on_hand(db, "A-02") == 20

    # Another operator recounts 18: 2 short, within the approval tolerance: it posts at once.
    second = _count_task(db, RECOUNTER, 18)
    assert second["id"] == recount_id
    view = db.run(lambda c: counting.get_count(c, REQUESTER, count["id"]))
    (line,) = view["lines"]
    assert (line["quantity_counted"], line["quantity_recounted"]) == (17, 18)
    assert (line["state"], line["quantity_variance"], view["status"]) == ("posted", -2, "closed")
    assert _on_hand(db, "A-02") == 18
    # Nothing waits for approval: approving the closed count changes nothing.
    again = db.run(lambda c: counting.approve_count(c, APPROVER, count["id"]))
    assert again["lines"] == view["lines"] and _on_hand(db, "A-02") == 18

    # Accuracy is kept per operator: the first count of the line was not exact.
    with db.read() as conn:
        acc = counting.count_accuracy(conn, SYSTEM, "WH1")
        assert verify(conn).ok
    assert (acc["lines_counted"], acc["lines_exact"]) == (1, 0)
    assert acc["operators"] == [
        {"user_id": COUNTER.user_id, "lines_counted": 1, "lines_exact": 0, "accuracy": 0.0}
    ]


def test_a_count_within_tolerance_posts_without_approval_and_an_exact_one_posts_nothing(
    db: Database,
) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-02")
    receive(db, "SKU-2", 10, "B-01")
    cmd = policy.ControlPolicyUpdate(approval_quantity=2, approval_value=None)
    db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))
    db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", ["A-02", "B-01"]))
    _count_task(db, COUNTER, 11)  # one found, within 2
    _count_task(db, COUNTER, 10)  # B-01: exact
    assert _on_hand(db, "A-02") == 11
    with db.read() as conn:
        states = sorted(conn.execute(sa.select(count_line.c.state)).scalars())
        acc = counting.count_accuracy(conn, SYSTEM, "WH1")
    assert states == ["accepted", "posted"]
    assert acc["accuracy"] == 0.5


def test_the_value_tolerance_holds_a_costly_variance_for_approval(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-02")
    from stockpilot.persistence.tables import item

    db.run(
        lambda c: c.execute(
            sa.update(item).where(item.c.sku == "SKU-1").values(unit_cost=Decimal("40"))
        )
    )
    cmd = policy.ControlPolicyUpdate(approval_quantity=None, approval_value=Decimal("50"))
    db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))
    count = db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", ["A-02"]))
    _count_task(db, COUNTER, 8)  # 2 × 40 = 80 > 50
    view = db.run(lambda c: counting.get_count(c, REQUESTER, count["id"]))
    assert view["lines"][0]["state"] == "review"
    assert view["lines"][0]["variance_value"] == "-80.000000"
    assert _on_hand(db, "A-02") == 10


def test_a_short_pick_becomes_a_count_by_exception(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    order_id = order(db, [("SKU-1", 5)])
    release(db, wave(db, [order_id]))
    (pick,) = tasks_of(db, "pick")
    confirm(db, int(pick.id), 3)  # short at the face: a count task follows
    done = _count_task(db, COUNTER, 0)  # the face is empty; the ledger held 2
    view = db.run(lambda c: counting.get_count(c, REQUESTER, done["count"]))
    assert (view["source"], view["lines"][0]["trigger"]) == ("exception", "short_pick")
    assert view["lines"][0]["quantity_variance"] == -2
    db.run(lambda c: counting.approve_count(c, APPROVER, done["count"]))
    assert _on_hand(db, "A-01") == 0
    with db.read() as conn:
        assert verify(conn).ok


def test_the_count_program_takes_what_is_due_by_class_and_by_exception(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-01")
    receive(db, "SKU-1", 10, "A-02")
    receive(db, "SKU-2", 10, "B-01")
    # Every class due every day (frequency 1): the whole site is in today's program.
    cmd = policy.ControlPolicyUpdate(count_days_a=1, count_days_b=1, count_days_c=1)
    db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))
    made = db.run(lambda c: programs.create_program(c, REQUESTER, "WH1"))
    assert (made["lines"], made["by_trigger"]) == (3, {"C": 3})
    with db.read() as conn:
        view = counting.get_count(conn, REQUESTER, made["count"])
    assert len(view["tasks"]) == 3 and view["source"] == "program"
    # What is being counted is not taken again.
    again = db.run(lambda c: programs.create_program(c, REQUESTER, "WH1"))
    assert (again["count"], again["lines"]) == (None, 0)

    # Count them: A-01 two short. After approval, a new program flags it for its variance.
    for quantity in (8, 10, 10):
        _count_task(db, COUNTER, quantity)
    db.run(lambda c: counting.approve_count(c, APPROVER, made["count"]))
    cmd = policy.ControlPolicyUpdate(count_days_a=30, count_days_b=90, count_days_c=365)
    db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))
    flagged = db.run(lambda c: programs.create_program(c, REQUESTER, "WH1"))
    assert (flagged["lines"], flagged["by_trigger"]) == (1, {"variance": 1})


def test_stockpilot_counts_program_and_accuracy_from_the_command_line(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from stockpilot.cli.main import app

    build_world(db)
    receive(db, "SKU-1", 10, "A-02")
    cmd = policy.ControlPolicyUpdate(count_days_a=1, count_days_b=1, count_days_c=1)
    db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    made = CliRunner().invoke(app, ["counts", "program", "--site", "WH1"])
    assert made.exit_code == 0, made.output
    assert "1 line(s) (C 1)" in made.output
    again = CliRunner().invoke(app, ["counts", "program", "--site", "WH1"])
    assert "nothing is due" in again.output
    _count_task(db, COUNTER, 10)
    acc = CliRunner().invoke(app, ["counts", "accuracy", "--site", "WH1"])
    assert acc.exit_code == 0 and "WH1: 1/1 exact (100.0%)" in acc.output
    assert CliRunner().invoke(app, ["counts", "program", "--site", "NOPE"]).exit_code == 1


def _classify(db: Database, classes: dict[str, str]) -> None:
    """A planning run's ABC class per item at WH1 (what the program reads)."""
    from datetime import date

    from stockpilot.persistence.planning_tables import item_location_policy, planning_run
    from stockpilot.persistence.tables import item, site
    from stockpilot.shared.clock import utcnow

    def work(conn: sa.Connection) -> None:
        run_id = conn.execute(
            planning_run.insert()
            .values(started_at=utcnow(), period="week", as_of=date.today(), parameters={})
            .returning(planning_run.c.id)
        ).scalar_one()
        site_id = conn.execute(sa.select(site.c.id).where(site.c.code == "WH1")).scalar_one()
        ids = dict(conn.execute(sa.select(item.c.sku, item.c.id)).all())
        zero = (
            dict.fromkeys(("forecast_per_period", "forecast_sigma", "lead_time_periods"), 0.0)
            | dict.fromkeys(
                ("lead_time_std_periods", "service_level", "safety_stock", "reorder_point"), 0.0
            )
            | {"order_up_to": 0.0, "order_quantity": 0.0}
        )
        conn.execute(
            item_location_policy.insert(),
            [
                {"run_id": run_id, "item_id": ids[sku], "site_id": site_id, "abc": abc,
                 "xyz": "X", "demand_class": "smooth", "method": "ses",
                 "service_type": "cycle", **zero}
                for sku, abc in classes.items()
            ],
        )  # fmt: skip

    db.run(work)


def test_the_program_counts_each_class_at_its_own_frequency(db: Database) -> None:
    from datetime import date, timedelta

    build_world(db)
    receive(db, "SKU-1", 10, "A-02")  # class A: monthly
    receive(db, "SKU-2", 10, "B-01")  # class C: yearly
    _classify(db, {"SKU-1": "A", "SKU-2": "C"})
    # Count both once (by hand), then look 40 days ahead: only the A item is due again.
    db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", ["A-02", "B-01"]))
    _count_task(db, COUNTER, 10)
    _count_task(db, COUNTER, 10)
    later = date.today() + timedelta(days=40)
    made = db.run(lambda c: programs.create_program(c, REQUESTER, "WH1", on=later))
    assert (made["lines"], made["by_trigger"]) == (1, {"A": 1})
    view = db.run(lambda c: counting.get_count(c, REQUESTER, made["count"]))
    assert view["lines"][0]["sku"] == "SKU-1"
    # A year on, the C item is due too (the A item is being counted already).
    next_year = date.today() + timedelta(days=370)
    made = db.run(lambda c: programs.create_program(c, REQUESTER, "WH1", on=next_year))
    assert made["by_trigger"] == {"C": 1}


def test_a_program_costs_the_same_statements_for_any_number_of_bins(db: Database) -> None:
    from tests.integration.test_statement_counts import counting as statements

    build_world(db)
    cmd = policy.ControlPolicyUpdate(count_days_a=1, count_days_b=1, count_days_c=1)
    db.run(lambda c: policy.set_policy(c, SYSTEM, "WH1", cmd))
    receive(db, "SKU-1", 10, "A-01")
    with statements(db) as few:
        db.run(lambda c: programs.create_program(c, REQUESTER, "WH1"))
    for code in ("A-02", "B-01"):
        receive(db, "SKU-2", 10, code)
    receive(db, "LOT-1", 10, "A-01", lot="L1")
    with statements(db) as more:
        made = db.run(lambda c: programs.create_program(c, REQUESTER, "WH1"))
    assert made["lines"] == 3
    assert len(more) == len(few)


def test_listing_counts_costs_the_same_statements_for_any_page(db: Database) -> None:
    from tests.integration.test_statement_counts import counting as statements

    build_world(db)
    for code in ("A-01", "A-02", "B-01"):
        receive(db, "SKU-1", 5, code)

    def listed() -> int:
        with statements(db) as seen, db.read() as conn:
            counting.list_counts(conn, SYSTEM, site_id=None, status=None, after_id=None, limit=50)
        return len(seen)

    db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", ["A-01"]))
    one = listed()
    db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", ["A-02", "B-01"]))
    assert listed() == one


def test_a_bin_the_ledger_holds_at_zero_is_counted_and_found_stock_posts(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 4, "A-02")
    from stockpilot.ledger.operations import StockLine, adjust

    db.run(
        lambda c: adjust(c, SYSTEM, "WH1", [StockLine("SKU-1", -4, "A-02")], reason_code="DAMAGE")
    )
    count = db.run(lambda c: counting.create_count(c, REQUESTER, "WH1", ["A-02"]))
    assert len(count["tasks"]) == 1
    _count_task(db, COUNTER, 2)  # two found after all
    db.run(lambda c: counting.approve_count(c, APPROVER, count["id"]))
    assert _on_hand(db, "A-02") == 2


def test_an_order_that_went_short_puts_its_item_in_the_program(db: Database) -> None:
    from stockpilot.outbound import sales_orders

    build_world(db)
    receive(db, "SKU-1", 3, "A-02", status="hold")  # on hand, but not allocatable
    receive(db, "SKU-2", 10, "B-01")
    order_id = order(db, [("SKU-1", 3)])
    db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
    made = db.run(lambda c: programs.create_program(c, REQUESTER, "WH1"))
    assert made["by_trigger"].get("short_demand") == 1
    view = db.run(lambda c: counting.get_count(c, REQUESTER, made["count"]))
    flagged = [ln for ln in view["lines"] if ln["trigger"] == "short_demand"]
    assert [(ln["sku"], ln["location"]) for ln in flagged] == [("SKU-1", "A-02")]
