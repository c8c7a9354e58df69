"""The planner workbench on its HTML: proposals grouped per supplier and site with their order
value, explanations, accept / override / approve / reject through the forms (in bulk too), the
item-location chart data; an auditor's pages offer no write action."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import proposal, proposal_action
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM
from tests.integration.test_planning_run import AS_OF, _network
from tests.web.conftest import browser_as, form_fields, text_of


def _planned(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)


def _ids(db: Database, **where: str) -> list[int]:
    with db.read() as conn:
        stmt = sa.select(proposal.c.id).order_by(proposal.c.id)
        for name, value in where.items():
            stmt = stmt.where(proposal.c[name] == value)
        return list(conn.execute(stmt).scalars())


def _status(db: Database, proposal_id: int) -> str:
    with db.read() as conn:
        found: str = conn.execute(
            sa.select(proposal.c.status).where(proposal.c.id == proposal_id)
        ).scalar_one()
    return found


def test_the_workbench_groups_proposals_per_supplier_and_site_with_order_value(
    db: Database,
) -> None:
    _planned(db)
    with browser_as(db, "buyer") as client:
        page = client.get("/proposals")
        assert page.status_code == 200
        text = text_of(page.text)
        assert "Purchase from S1 to HUB order value" in text
        assert "Transfer from HUB to BR1" in text
        assert "is at or below the reorder point" in text
        only_purchases = text_of(client.get("/proposals", params={"kind": "purchase"}).text)
        assert "Transfer from" not in only_purchases
        by_supplier = text_of(client.get("/proposals", params={"supplier": "NOPE"}).text)
        assert "No proposal matches" in by_supplier
    with browser_as(db, "warehouse_supervisor") as no_planning:
        assert no_planning.get("/proposals").status_code == 403


def test_override_with_a_reason_then_accept_creates_the_draft_document(db: Database) -> None:
    _planned(db)
    (target, *_) = _ids(db, kind="transfer")
    with browser_as(db, "planner") as client:
        client.app.state.settings.approval_override_ratio = 100.0  # type: ignore[attr-defined]
        page = client.get(f"/proposals/{target}")
        assert "How the quantity was worked out" in page.text and "inventory position" in page.text
        fields = form_fields(page.text, f"/proposals/{target}/override")
        missing = client.post(f"/proposals/{target}/override", data={**fields, "quantity": "7"})
        assert missing.status_code == 422
        assert 'id="reason_code-error"' in missing.text  # the error sits beside its field
        fields = form_fields(missing.text, f"/proposals/{target}/override")
        body = {**fields, "quantity": "7", "reason_code": "COUNT", "comment": "promo ends"}
        done = client.post(f"/proposals/{target}/override", data=body)
        assert done.status_code == 200 and "Quantity set to 7 (COUNT)" in done.text
        again = client.post(f"/proposals/{target}/override", data=body)  # a double submit
        assert again.status_code == 200
        with db.read() as conn:
            overrides = conn.execute(
                sa.select(sa.func.count()).where(
                    proposal_action.c.proposal_id == target, proposal_action.c.action == "override"
                )
            ).scalar_one()
        assert overrides == 1
        act = form_fields(done.text, "/proposals/act")
        accepted = client.post("/proposals/act", data={**act, "action": "accept"})
        assert accepted.status_code == 200, accepted.text
        assert "Accepted: 1 draft document created" in accepted.text
    assert _status(db, target) == "accepted"


def test_bulk_accept_over_the_threshold_waits_for_a_second_person_to_approve(
    db: Database,
) -> None:
    _planned(db)
    purchases = _ids(db, kind="purchase")
    with browser_as(db, "buyer") as buyer:
        page = buyer.get("/proposals", params={"kind": "purchase"})
        fields = form_fields(page.text, "/proposals/act")
        data = {**fields, "action": "accept", "proposal_ids": [str(i) for i in purchases]}
        buyer.app.state.settings.approval_value_threshold = 0.0  # type: ignore[attr-defined]
        answer = buyer.post("/proposals/act", data=data)
        assert "wait for a second" in answer.text
    assert {_status(db, i) for i in purchases} == {"pending_approval"}
    with browser_as(db, "inventory_controller") as controller:
        page = controller.get("/proposals", params={"status": "pending_approval"})
        assert 'value="approve"' in page.text and 'value="accept"' not in page.text
        fields = form_fields(page.text, "/proposals/act")
        data = {**fields, "action": "approve", "proposal_ids": [str(i) for i in purchases]}
        approved = controller.post("/proposals/act", data=data)
        assert "Approved: 1 draft document" in approved.text, approved.text
    assert {_status(db, i) for i in purchases} == {"accepted"}


def test_bulk_reject_with_a_reason_and_a_refusal_names_the_field(db: Database) -> None:
    _planned(db)
    ids = _ids(db)
    with browser_as(db, "planner") as client:
        fields = form_fields(client.get("/proposals").text, "/proposals/act")
        none_ticked = client.post("/proposals/act", data={**fields, "action": "reject"})
        assert none_ticked.status_code == 422 and "tick at least one proposal" in none_ticked.text
        fields = form_fields(none_ticked.text, "/proposals/act")
        data = {**fields, "action": "reject", "reason_code": "COUNT"}
        data["proposal_ids"] = [str(i) for i in ids]  # type: ignore[assignment]
        rejected = client.post("/proposals/act", data=data)
        assert f"Rejected {len(ids)} proposal(s)" in rejected.text
    assert {_status(db, i) for i in ids} == {"rejected"}


def test_an_auditor_sees_the_workbench_without_any_write_action(db: Database) -> None:
    _planned(db)
    (first, *_) = _ids(db)
    with browser_as(db, "auditor") as client:
        for path in ("/proposals", f"/proposals/{first}", "/", "/tasks"):
            html = client.get(path).text
            posts = re.findall(r'<form method="post" action="([^"]+)"', html)
            assert posts == ["/logout"], (path, posts)
            assert 'name="proposal_ids"' not in html, path
            assert 'name="action"' not in html and "My next task" not in html, path


def test_the_item_location_page_carries_history_forecast_interval_and_s_lines(
    db: Database,
) -> None:
    _planned(db)
    with browser_as(db, "planner") as client:
        page = client.get("/item-locations/HUB/FAST")
        assert page.status_code == 200
        data = re.search(r"id=\"chart\" data-chart='([^']*)'", page.text)
        assert data
        chart = json.loads(data.group(1))
        labels = [s["label"] for s in chart["series"]]
        assert labels[:2] == ["demand", "forecast"] and "reorder point s" in labels
        demand = [v for v in chart["series"][0]["values"] if v is not None]
        assert len(demand) >= 100 and 20 < sum(demand) / len(demand) < 60
        low, high = chart["series"][2]["values"][-1], chart["series"][3]["values"][-1]
        assert low < chart["series"][1]["values"][-1] < high
        assert "Measured error (MASE)" in page.text
        assert "/static/vendor/uPlot-1.6.32.iife.min.js" in page.text


def test_override_scores_say_whether_the_override_or_the_suggestion_was_right(
    db: Database,
) -> None:
    from datetime import timedelta

    from stockpilot.replenishment import actions

    _network(db)
    run_plan(db, as_of=AS_OF - timedelta(weeks=20), actor=SYSTEM)
    (target, *_) = _ids(db, kind="transfer")
    db.run(lambda c: actions.override(c, SYSTEM, target, 1, "COUNT"))
    with browser_as(db, "planner") as client:
        page = client.get("/proposals/scores")
        assert page.status_code == 200
        text = text_of(page.text)
        assert f"{target} BR1 COUNT" in text
        assert re.search(r"\d+ override\(s\) better than the suggestion", text)


def test_the_workbench_filters_by_class_and_line_value(db: Database) -> None:
    _planned(db)
    with db.read() as conn:
        classes = set(
            conn.execute(
                sa.text("SELECT DISTINCT abc FROM item_location_policy WHERE abc IS NOT NULL")
            ).scalars()
        )
    with browser_as(db, "buyer") as client:
        everything = client.get("/proposals").text.count('name="proposal_ids"')
        by_class = sum(
            client.get("/proposals", params={"abc": c}).text.count('name="proposal_ids"')
            for c in classes
        )
        assert everything > 0 and by_class <= everything
        rich = client.get("/proposals", params={"min_value": "1000000000"})
        assert "No proposal matches" in rich.text
        assert client.get("/proposals", params={"min_value": "lots"}).status_code == 422
        assert client.get("/proposals", params={"abc": "Z"}).status_code == 422
