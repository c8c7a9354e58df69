"""Every way around an approval fails and posts nothing: self-approval, a role without the
right, a direct state change, a bulk import, an adjustment through another route."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.importing import import_csv
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import move
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import RowError, StockpilotError
from tests.api.conftest import assert_problem, auth, make_user

API = "/api/v1"


def _moves(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(move)).scalar_one())


def _held_count(
    client: TestClient, requester: dict[str, str], counter: dict[str, str]
) -> tuple[int, int]:
    count = client.post(
        f"{API}/counts", json={"site": "WH1", "locations": ["A-01"]}, headers=requester
    ).json()
    done = client.post(
        f"{API}/tasks/{count['tasks'][0]}/confirm", json={"quantity": 1}, headers=counter
    )
    assert done.status_code == 200, done.text
    return int(count["id"]), int(count["tasks"][0])


def _held_adjustment(client: TestClient, requester: dict[str, str]) -> int:
    body = {
        "site": "WH1",
        "reason": "DAMAGE",
        "lines": [{"sku": "SKU-1", "quantity": -30, "location": "A-02"}],
    }
    held = client.post(f"{API}/adjustments", json=body, headers=requester)
    assert held.status_code == 202, held.text
    assert held.json()["status"] == "pending"
    return int(held.json()["id"])


def test_no_way_around_the_approval_of_counts_and_adjustments_succeeds(
    stocked: Database, client: TestClient, tmp_path: Path
) -> None:
    admin = auth(make_user(stocked, "admin"))
    policy = {"adjustment_quantity": 10}
    assert client.put(f"{API}/counts/policy/WH1", json=policy, headers=admin).status_code == 200
    requester = auth(make_user(stocked, "warehouse_supervisor"))
    counter = auth(make_user(stocked, "warehouse_operator"))
    count_id, task_id = _held_count(client, requester, counter)
    adjustment_id = _held_adjustment(client, requester)
    before = _moves(stocked)
    attempts = []

    # Self-approval: the requester (who holds the right), and the counter.
    attempts.append(client.post(f"{API}/counts/{count_id}/approve", headers=requester))
    attempts.append(client.post(f"{API}/adjustments/{adjustment_id}/approve", headers=requester))
    attempts.append(client.post(f"{API}/counts/{count_id}/approve", headers=counter))
    # Roles without the right.
    for role in ("warehouse_operator", "auditor", "planner", "buyer", "integration"):
        other = auth(make_user(stocked, role))
        attempts.append(client.post(f"{API}/counts/{count_id}/approve", headers=other))
        attempts.append(client.post(f"{API}/adjustments/{adjustment_id}/approve", headers=other))
    # Direct state changes: no route edits a count's or an adjustment's state.
    for method in ("PATCH", "PUT"):
        for path in (f"/counts/{count_id}", f"/adjustments/{adjustment_id}"):
            attempts.append(
                client.request(method, API + path, json={"status": "posted"}, headers=admin)
            )
    # The counted task confirmed again, to post another count.
    attempts.append(
        client.post(f"{API}/tasks/{task_id}/confirm", json={"quantity": 40}, headers=counter)
    )
    # Another route to the inventory-loss location: moves and receipts refuse virtual bins.
    to_loss = {
        "site": "WH1",
        "lines": [
            {"sku": "SKU-1", "quantity": 30, "location": "A-02", "to_location": "@INVENTORY-LOSS"}
        ],
    }
    attempts.append(client.post(f"{API}/moves", json=to_loss, headers=admin))
    from_loss = {
        "site": "WH1",
        "lines": [{"sku": "SKU-1", "quantity": 30, "location": "@INVENTORY-LOSS"}],
    }
    attempts.append(client.post(f"{API}/receipts", json=from_loss, headers=admin))

    succeeded = [
        (r.request.method, r.request.url.path, r.status_code)
        for r in attempts
        if r.status_code < 400
    ]
    assert succeeded == []
    for r in attempts[:2]:
        assert_problem(r, 403, "approved_by")

    # Bulk import: there is no import of adjustments, and stock imports cannot take stock out.
    with pytest.raises(StockpilotError):
        import_csv(stocked, "adjustments", tmp_path / "x.csv", actor=SYSTEM)
    negative = tmp_path / "stock.csv"
    negative.write_text("site,location,sku,quantity\nWH1,A-02,SKU-1,-30\n")
    with pytest.raises(RowError, match="quantity"):
        import_csv(stocked, "stock", negative, actor=SYSTEM)

    assert _moves(stocked) == before
    state = client.get(f"{API}/adjustments/{adjustment_id}", headers=requester).json()
    assert state["status"] == "pending"
    line = client.get(f"{API}/counts/{count_id}", headers=requester).json()["lines"][0]
    assert line["state"] == "review"

    # The one legitimate way: another supervisor approves.
    approver = auth(make_user(stocked, "warehouse_supervisor"))
    assert client.post(f"{API}/counts/{count_id}/approve", headers=approver).status_code == 200
    done = client.post(f"{API}/adjustments/{adjustment_id}/approve", headers=approver)
    assert done.status_code == 200 and done.json()["status"] == "posted"
    assert _moves(stocked) == before + 2
