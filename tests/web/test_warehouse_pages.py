"""The scanner screens on their HTML: receive against a purchase order by scanning the item
label, put away by scanning the directed bin (another bin needs a reason), pick short."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.warehouse_tables import task
from tests.web.conftest import browser_as, form_fields, text_of
from tests.web.warehouse_world import GTIN, warehouse_world


def _task_form(html: str) -> tuple[str, dict[str, str]]:
    found = re.search(r'action="(/tasks/\d+/confirm)"', html)
    assert found, text_of(html)[-600:]
    return found.group(1), form_fields(html, found.group(1))


def _next(client: TestClient, kind: str) -> str:
    page = client.get("/tasks")
    fields = form_fields(page.text, "/tasks/next")
    answer = client.post("/tasks/next", data={**fields, "type": kind})
    assert answer.status_code == 200, answer.text
    return answer.text


def test_receive_by_scan_then_put_away_to_the_directed_bin(db: Database) -> None:
    world = warehouse_world(db)
    with browser_as(db, "warehouse_operator", ["WH1"]) as client:
        screen = client.get("/receive")
        assert 'class="scanner"' in screen.text and "data-scan" in screen.text
        fields = form_fields(screen.text, "/receive")
        bad = client.post(
            "/receive",
            data={
                **fields,
                "purchase_order": str(world.purchase_order),
                "scan": f"(01){GTIN[:-1]}9(30)40",
            },
        )
        assert bad.status_code == 422 and 'id="scan-error"' in bad.text
        fields = form_fields(bad.text, "/receive")
        label = f"(01){GTIN}(30)40"
        body = {**fields, "purchase_order": str(world.purchase_order), "scan": label}
        received = client.post("/receive", data=body)
        assert received.status_code == 200, text_of(received.text)[-800:]
        assert "40 × SKU-1 at DOCK-1 (putaway task" in text_of(received.text)
        assert client.post("/receive", data=body).status_code == 200  # a second Enter
        with db.read() as conn:
            putaways = conn.execute(sa.select(task.c.id).where(task.c.type == "putaway")).all()
        assert len(putaways) == 1

        html = _next(client, "putaway")
        action, fields = _task_form(html)
        to_bin = re.search(r'id="task-to">([^<]+)<', html)
        assert to_bin
        wrong = client.post(action, data={**fields, "scan": "DOCK-1"})
        assert wrong.status_code == 422 and f"scan {to_bin.group(1)}" in wrong.text
        _, fields = _task_form(wrong.text)
        done = client.post(action, data={**fields, "scan": to_bin.group(1)})
        assert done.status_code == 200, text_of(done.text)[-800:]
        assert f"40 × SKU-1 at {to_bin.group(1)}" in text_of(done.text)
    with db.read() as conn:
        assert verify(conn).ok


def test_a_short_pick_confirms_what_the_bin_held(db: Database) -> None:
    warehouse_world(db)
    with browser_as(db, "warehouse_operator", ["WH1"]) as client:
        html = _next(client, "pick")
        assert 'id="task-from">A-01<' in html
        action, fields = _task_form(html)
        done = client.post(action, data={**fields, "scan": "A-01", "quantity": "4", "short": "1"})
        assert done.status_code == 200, text_of(done.text)[-800:]
        assert "4 × SKU-1 at A-01" in text_of(done.text)
        with db.read() as conn:
            row = conn.execute(
                sa.select(task.c.confirmed_quantity, task.c.exception).where(task.c.type == "pick")
            ).first()
            counts = conn.execute(sa.select(task.c.id).where(task.c.type == "count")).all()
        assert row is not None and (row.confirmed_quantity, row.exception) == (4, "short")
        assert counts  # the short bin is counted
        assert "count" in client.get("/tasks").text


def test_the_task_screen_of_another_sites_operator_shows_none_of_wh1(db: Database) -> None:
    warehouse_world(db)
    with browser_as(db, "warehouse_operator", ["WH2"]) as client:
        page = client.get("/tasks")
        assert "WH1" not in page.text and "A-01" not in page.text
        other = client.get("/tasks", params={"site": "WH1"})
        assert other.status_code == 422 and "A-01" not in other.text
