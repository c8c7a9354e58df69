"""Planning over HTTP: a run, its policies and forecasts, proposals and planner actions,
scenarios — with site scope and cost visibility like every other resource."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import make_user
from tests.integration.test_planning_run import _network


def _auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def _run(client: TestClient, token: str) -> dict[str, Any]:
    response = client.post("/api/v1/planning-runs", json={}, headers=_auth(token, "run-1"))
    assert response.status_code == 201, response.text
    return response.json()


def test_a_planning_run_exposes_policies_forecasts_and_proposals(
    db: Database, client: TestClient
) -> None:
    _network(db)
    planner = make_user(db, "planner")
    run = _run(client, planner)
    assert run["item_locations"] == 4
    policies = client.get("/api/v1/policies?sku=FAST&site=HUB", headers=_auth(planner)).json()
    (policy,) = policies["items"]
    assert policy["reorder_point"] >= policy["safety_stock"] > 0
    forecasts = client.get("/api/v1/forecasts?sku=FAST", headers=_auth(planner)).json()
    assert {f["site"] for f in forecasts["items"]} == {"HUB", "BR1"}
    proposals = client.get("/api/v1/proposals?status=proposed", headers=_auth(planner)).json()
    assert proposals["items"] and all(p["trigger"] for p in proposals["items"])
    one = client.get(f"/api/v1/proposals/{proposals['items'][0]['id']}", headers=_auth(planner))
    assert "explanation" in one.json() and one.json()["actions"] == []


def test_replaying_a_run_with_the_same_key_writes_nothing(db: Database, client: TestClient) -> None:
    _network(db)
    planner = make_user(db, "planner")
    first = _run(client, planner)
    again = _run(client, planner)
    assert again["id"] == first["id"]
    runs = client.get("/api/v1/planning-runs", headers=_auth(planner)).json()
    assert len(runs["items"]) == 1
    # The run as listed carries the same step timings as the answer, its write included.
    assert runs["items"][0]["timings"] == first["timings"] and "write" in first["timings"]


def test_override_then_accept_creates_a_draft_transfer_order(
    db: Database, client: TestClient
) -> None:
    _network(db)
    planner = make_user(db, "planner")
    _run(client, planner)
    transfers = client.get(
        "/api/v1/proposals?kind=transfer&status=proposed", headers=_auth(planner)
    ).json()["items"]
    target = transfers[0]
    bad = client.post(
        f"/api/v1/proposals/{target['id']}/override",
        json={"quantity": -1, "reason_code": "COUNT"},
        headers=_auth(planner),
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/api/v1/proposals/{target['id']}/override",
        json={"quantity": target["quantity"] + 1, "reason_code": "COUNT"},
        headers=_auth(planner),
    )
    assert ok.status_code == 200, ok.text
    accepted = client.post(
        "/api/v1/proposals/accept",
        json={"proposal_ids": [t["id"] for t in transfers]},
        headers=_auth(planner, "accept-1"),
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["documents"][0]["document_type"] == "transfer_order"
    orders = client.get("/api/v1/transfer-orders", headers=_auth(planner)).json()["items"]
    assert sum(len(o["lines"]) for o in orders) == len(transfers)


def test_roles_without_planning_rights_cannot_act_and_site_scope_filters(
    db: Database, client: TestClient
) -> None:
    _network(db)
    planner = make_user(db, "planner")
    _run(client, planner)
    operator = make_user(db, "warehouse_operator")
    assert client.get("/api/v1/proposals", headers=_auth(operator)).status_code == 403
    assert client.post("/api/v1/planning-runs", json={}, headers=_auth(operator)).status_code == 403
    branch_planner = make_user(db, "planner", ["BR1"])
    rows = client.get("/api/v1/proposals", headers=_auth(branch_planner)).json()["items"]
    assert rows and {r["site"] for r in rows} == {"BR1"}
    policies = client.get("/api/v1/policies", headers=_auth(branch_planner)).json()["items"]
    assert {p["site"] for p in policies} == {"BR1"}
    buyer_rows = client.get("/api/v1/proposals", headers=_auth(planner)).json()["items"]
    assert any("unit_cost" in r for r in buyer_rows)
    auditor = make_user(db, "auditor")
    assert client.get("/api/v1/proposals", headers=_auth(auditor)).status_code == 200


def test_scenarios_compare_side_by_side(db: Database, client: TestClient) -> None:
    _network(db)
    planner = make_user(db, "planner")
    body = {
        "name": "risk",
        "scenarios": [{"name": "spike", "kind": "demand_spike", "demand_change_pct": 50}],
    }
    response = client.post("/api/v1/scenarios", json=body, headers=_auth(planner, "sc-1"))
    assert response.status_code == 201, response.text
    names = [r["scenario"] for r in response.json()["results"]]
    assert names == ["baseline", "spike"]
    bad = client.post(
        "/api/v1/scenarios",
        json={"name": "x", "scenarios": [{"name": "a", "kind": "earthquake"}]},
        headers=_auth(planner),
    )
    assert bad.status_code == 422
    assert "scenarios[0].kind" in bad.text
