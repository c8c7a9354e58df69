"""Events, order terms, pilots and the policy type per item-location over HTTP, used by the
next planning run; bad input names its field, nothing half-written."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import make_user
from tests.integration.test_planning_run import _network

API = "/api/v1"


def _auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def test_what_a_planner_sets_over_http_shapes_the_next_run(
    db: Database, client: TestClient
) -> None:
    _network(db)
    planner = make_user(db, "planner")
    event = client.post(
        f"{API}/planning-events",
        json={"name": "promo", "sku": "FAST", "site": "HUB", "start_date": "2026-11-23",
              "end_date": "2027-02-01", "uplift_pct": 50},
        headers=_auth(planner, "ev-1"),
    )  # fmt: skip
    assert event.status_code == 201, event.text
    listed = client.get(f"{API}/planning-events", headers=_auth(planner)).json()["items"]
    assert [e["name"] for e in listed] == ["promo"]
    bad = client.post(
        f"{API}/planning-events",
        json={"name": "x", "start_date": "2026-13-01", "end_date": "2027-01-01", "uplift_pct": 5},
        headers=_auth(planner, "ev-2"),
    )
    assert bad.status_code == 422 and "start_date" in bad.text
    terms = client.put(
        f"{API}/order-terms/S1", json={"min_order_value": "100"}, headers=_auth(planner, "t-1")
    )
    assert terms.status_code == 200, terms.text
    assert (
        client.put(f"{API}/order-terms/NOPE", json={}, headers=_auth(planner, "t-2")).status_code
        == 404
    )
    pilot = client.post(
        f"{API}/pilots",
        json={"name": "p", "scope_field": "abc", "scope_value": "A", "service_level": 0.99},
        headers=_auth(planner, "p-1"),
    )
    assert pilot.status_code == 201, pilot.text
    again = client.post(
        f"{API}/pilots",
        json={"name": "q", "scope_field": "abc", "scope_value": "B", "service_level": 0.97},
        headers=_auth(planner, "p-2"),
    )
    assert again.status_code == 409
    override = client.post(
        f"{API}/policies/overrides",
        json={"sku": "SLOW", "site": "BR1", "policy_type": "phase_out", "reason_code": "COUNT"},
        headers=_auth(planner, "o-1"),
    )
    assert override.status_code == 201, override.text
    run = client.post(
        f"{API}/planning-runs", json={"segment_policies": True}, headers=_auth(planner, "r-1")
    )
    assert run.status_code == 201, run.text
    policies = {
        (p["sku"], p["site"]): p
        for p in client.get(f"{API}/policies", headers=_auth(planner)).json()["items"]
    }
    assert policies[("SLOW", "BR1")]["policy_type"] == "phase_out"
    assert policies[("SLOW", "BR1")]["excess_flag"] is True
    assert policies[("FAST", "HUB")]["event_uplift"] == 0.5
    assert all(p["in_pilot"] == (p["abc"] == "A") for p in policies.values())
    report = client.get(
        f"{API}/pilots/{pilot.json()['id']}/report?holdout=12", headers=_auth(planner)
    )
    assert report.status_code == 200, report.text
    assert report.json()["verdict"] in ("roll out", "keep champion")
    assert {(g["group"], g["arm"]) for g in report.json()["groups"]} == {
        ("pilot", "champion"), ("pilot", "challenger"), ("rest", "champion"),
    }  # fmt: skip
    ended = client.post(f"{API}/pilots/{pilot.json()['id']}/end", headers=_auth(planner, "p-3"))
    assert ended.json()["status"] == "ended"


def test_the_calibration_report_over_http_names_its_bad_input(
    db: Database, client: TestClient
) -> None:
    _network(db)
    planner = make_user(db, "planner")
    report = client.get(f"{API}/calibration?holdout=12&site=HUB", headers=_auth(planner))
    assert report.status_code == 200, report.text
    overall = next(r for r in report.json()["items"] if r["demand_class"] == "all")
    assert overall["series"] == 2 and abs(overall["normal_k1645"] - 0.05) < 1e-3
    too_long = client.get(f"{API}/calibration?holdout=27", headers=_auth(planner))
    assert too_long.status_code == 422 and "holdout" in too_long.text
    bound = make_user(db, "planner", sites=["BR1"])
    refused = client.get(f"{API}/calibration?holdout=12", headers=_auth(bound))
    assert refused.status_code == 403
    own = client.get(f"{API}/calibration?holdout=12&site=BR1", headers=_auth(bound))
    assert own.status_code == 200, own.text
