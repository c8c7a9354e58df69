"""Supervisor views on their HTML: plan the open orders into waves and release one; the pick
tasks it puts on the floor are in the queue; an operator may not plan waves."""

from __future__ import annotations

import re

import sqlalchemy as sa

from stockpilot.persistence.db import Database
from stockpilot.persistence.warehouse_tables import task
from tests.web.conftest import browser_as, form_fields, text_of
from tests.web.warehouse_world import warehouse_world


def test_plan_waves_then_release_one_puts_its_picks_on_the_floor(db: Database) -> None:
    world = warehouse_world(db, waved=False)
    with browser_as(db, "warehouse_supervisor", ["WH1"]) as client:
        page = client.get("/waves")
        assert page.status_code == 200 and 'href="/waves"' in page.text
        fields = form_fields(page.text, "/waves/plan")
        planned = client.post(
            "/waves/plan", data={**fields, "site": "WH1", "by": ["route"], "method": "discrete"}
        )
        assert planned.status_code == 200, text_of(planned.text)[-600:]
        assert "1 wave planned" in planned.text
        assert f"orders {world.sales_order}" in text_of(planned.text)
        release = re.search(r'action="(/waves/\d+/release)"', planned.text)
        assert release
        done = client.post(release.group(1), data=form_fields(planned.text, release.group(1)))
        assert done.status_code == 200, text_of(done.text)[-600:]
        assert re.search(r"released: [1-9]\d* pick task", done.text)
        queue = client.get("/tasks")
        assert "pick" in text_of(queue.text)
    with db.read() as conn:
        assert conn.execute(sa.select(task.c.id).where(task.c.type == "pick")).first()


def test_an_operator_may_not_plan_waves(db: Database) -> None:
    warehouse_world(db, waved=False)
    with browser_as(db, "warehouse_operator", ["WH1"]) as client:
        assert client.get("/waves").status_code == 403
        assert 'href="/waves"' not in client.get("/").text


def test_an_over_receipt_refused_at_the_scanner_is_allowed_by_a_supervisor(db: Database) -> None:
    from tests.web.warehouse_world import GTIN

    world = warehouse_world(db, waved=False)
    label = f"(01){GTIN}(30)60"  # 60 against a line of 40
    with browser_as(db, "warehouse_operator", ["WH1"]) as operator:
        fields = form_fields(operator.get("/receive").text, "/receive")
        body = {**fields, "purchase_order": str(world.purchase_order), "scan": label}
        refused = operator.post("/receive", data=body)
        assert refused.status_code in (409, 422), refused.status_code
        with browser_as(db, "warehouse_supervisor", ["WH1"]) as supervisor:
            page = supervisor.get("/approvals")
            assert page.status_code == 200 and 'href="/approvals"' in page.text
            allow = {
                **form_fields(page.text, "/approvals/over-receipt"),
                "purchase_order": str(world.purchase_order),
                "line_no": "1",
                "quantity": "20",
                "reason": "supplier shipped a full pallet",
            }
            done = supervisor.post("/approvals/over-receipt", data=allow)
            assert done.status_code == 200, text_of(done.text)[-500:]
            assert "20 more allowed" in done.text
            bad = supervisor.post(
                "/approvals/over-receipt",
                data={**allow, **form_fields(done.text, "/approvals/over-receipt"), "line_no": "9"},
            )
            assert bad.status_code == 422 and 'id="line_no-error"' in bad.text
        fields = form_fields(refused.text, "/receive")
        body = {**fields, "purchase_order": str(world.purchase_order), "scan": label}
        received = operator.post("/receive", data=body)
        assert received.status_code == 200, text_of(received.text)[-500:]
        assert "60 × SKU-1" in text_of(received.text)
    with browser_as(db, "warehouse_operator", ["WH1"]) as nobody:
        assert nobody.get("/approvals").status_code == 403


def _counted_bin(db: Database, requester: str) -> int:
    """A count of A-02 (20 in the ledger) asked for by ``requester`` (a web user) and
    counted 3 short."""
    from stockpilot.counting import service as counting
    from stockpilot.persistence.tables import app_user
    from stockpilot.shared.actor import Actor
    from stockpilot.tasks import service as tasks

    with db.read() as conn:
        user_id = conn.execute(
            sa.select(app_user.c.id).where(app_user.c.name == requester)
        ).scalar_one()
    asker = Actor(user_id=int(user_id), name=requester, role="warehouse_supervisor")
    count = db.run(lambda c: counting.create_count(c, asker, "WH1", ["A-02"]))
    counter = Actor(user_id=10_903, name="olga", role="warehouse_operator")
    (task_id,) = count["tasks"]
    db.run(lambda c: tasks.confirm_task(c, counter, task_id, tasks.Confirmation(quantity=17)))
    return int(count["id"])


def test_a_count_variance_is_approved_by_a_second_supervisor_never_by_its_requester(
    db: Database,
) -> None:
    from tests.support.world import build_world, receive
    from tests.web.conftest import sign_in, web_user

    build_world(db)
    receive(db, "SKU-1", 20, "A-02")
    requester = web_user(db, "warehouse_supervisor", ["WH1"])
    count_id = _counted_bin(db, requester)
    action = f"/approvals/count/{count_id}"
    from fastapi.testclient import TestClient

    from stockpilot.api.app import create_app
    from tests.api.conftest import api_settings

    with TestClient(create_app(db, api_settings())) as own:
        assert sign_in(own, requester).status_code == 303
        page = own.get("/approvals")
        assert page.status_code == 200
        assert f"Approve count {count_id}" in page.text and "-3" in text_of(page.text)
        refused = own.post(action, data=form_fields(page.text, action))
        assert refused.status_code == 403
        assert "cannot approve it themselves" in text_of(refused.text)
    with browser_as(db, "warehouse_supervisor", ["WH1"]) as other:
        page = other.get("/approvals")
        done = other.post(action, data=form_fields(page.text, action))
        assert done.status_code == 200, text_of(done.text)[-500:]
        assert f"Count {count_id} approved: its variance of -3 unit(s) is posted" in done.text
        assert "No count waits for approval." in done.text
    with db.read() as conn:
        from stockpilot.ledger import positions
        from stockpilot.shared.actor import SYSTEM

        held = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1", location_code="A-02")
    assert held["quantity_on_hand"] == 17
    with browser_as(db, "warehouse_operator", ["WH1"]) as operator:
        assert operator.post(action, data={}).status_code in (403, 422)
