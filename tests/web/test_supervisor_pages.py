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
