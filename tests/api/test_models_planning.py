"""Planning routes the other API tests leave out, called once each so the client checks their
bodies against the declared models: policy overrides, override scores, approval, rejection,
stored scenarios and purchase orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM
from tests.api.conftest import auth, make_user
from tests.integration.test_planning_run import AS_OF, _network


def _proposals(client: TestClient, token: str, kind: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/proposals?kind={kind}&status=proposed", headers=auth(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_policy_override_answers_what_is_now_set(db: Database, client: TestClient) -> None:
    _network(db)
    planner = make_user(db, "planner")
    response = client.post(
        "/api/v1/policies/overrides",
        json={"sku": "FAST", "site": "HUB", "service_level": 0.97, "reason_code": "COUNT"},
        headers=auth(planner),
    )
    assert response.status_code == 201, response.text
    assert response.json()["service_level"] == 0.97


def test_an_override_is_scored_once_its_horizon_has_passed(
    db: Database, client: TestClient
) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF - timedelta(days=120), actor=SYSTEM)
    planner = make_user(db, "planner")
    target = _proposals(client, planner, "transfer")[0]
    overridden = client.post(
        f"/api/v1/proposals/{target['id']}/override",
        json={"quantity": target["quantity"] * 3, "reason_code": "COUNT"},
        headers=auth(planner),
    )
    assert overridden.status_code == 200, overridden.text
    scores = client.get("/api/v1/proposals/override-scores", headers=auth(planner))
    assert scores.status_code == 200, scores.text
    assert [s["proposal_id"] for s in scores.json()["items"]] == [target["id"]]


def test_approved_and_rejected_proposals_and_the_purchase_orders_they_leave(
    db: Database, client: TestClient
) -> None:
    _network(db)
    planner = make_user(db, "planner")
    assert client.post("/api/v1/planning-runs", json={}, headers=auth(planner)).status_code == 201
    purchases = _proposals(client, planner, "purchase")
    for p in purchases:  # far above the suggestion: acceptance waits for approval
        client.post(
            f"/api/v1/proposals/{p['id']}/override",
            json={"quantity": p["quantity"] * 3, "reason_code": "COUNT"},
            headers=auth(planner),
        )
    ids = [p["id"] for p in purchases]
    accepted = client.post(
        "/api/v1/proposals/accept", json={"proposal_ids": ids}, headers=auth(planner)
    )
    assert accepted.json()["pending_approval"] == ids
    controller = make_user(db, "inventory_controller")
    approved = client.post(
        "/api/v1/proposals/approve", json={"proposal_ids": ids}, headers=auth(controller)
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["documents"][0]["document_type"] == "purchase_order"
    orders = client.get("/api/v1/purchase-orders", headers=auth(planner)).json()["items"]
    assert sorted(line["proposal_id"] for o in orders for line in o["lines"]) == ids

    transfer = _proposals(client, planner, "transfer")[0]
    rejected = client.post(
        "/api/v1/proposals/reject",
        json={"proposal_ids": [transfer["id"]], "reason_code": "COUNT"},
        headers=auth(planner),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json() == {"rejected": [transfer["id"]]}


def test_a_stored_scenario_is_listed_and_read_back(db: Database, client: TestClient) -> None:
    _network(db)
    planner = make_user(db, "planner")
    body = {
        "name": "risk",
        "scenarios": [{"name": "late", "kind": "lead_time_delay", "delay_periods": 2}],
    }
    created = client.post("/api/v1/scenarios", json=body, headers=auth(planner))
    assert created.status_code == 201, created.text
    listed = client.get("/api/v1/scenarios", headers=auth(planner)).json()["items"]
    assert [s["id"] for s in listed] == [created.json()["id"]]
    one = client.get(f"/api/v1/scenarios/{created.json()['id']}", headers=auth(planner))
    assert one.status_code == 200, one.text
    assert one.json()["result"]["results"] == created.json()["results"]
