"""The master-data health report on a real database, from the service, the CLI and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
import typer
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from stockpilot.api.app import create_app
from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import ItemCreate, SupplierCreate
from stockpilot.cli.plan import register
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import demand_history, site, supplier
from stockpilot.planning.data_quality import data_quality_findings
from stockpilot.replenishment.queries import data_quality_inputs
from stockpilot.shared.actor import SYSTEM
from tests.api.conftest import api_settings, auth, make_user
from tests.integration.test_planning_run import AS_OF, _network


def _world(db: Database) -> None:
    """The planning test network, its supplier quoting 30 days where receipts show 14–16, an
    idle supplier and an item with demand that nobody supplies."""
    _network(db)

    def work(conn: Connection) -> None:
        conn.execute(sa.update(supplier).where(supplier.c.code == "S1").values(lead_time_days=30))
        catalog.create_supplier(conn, SYSTEM, SupplierCreate(code="IDLE", name="Idle"))
        catalog.create_item(conn, SYSTEM, ItemCreate(sku="ORPHAN", unit_cost=Decimal(2)))
        item_id = conn.execute(sa.text("SELECT id FROM item WHERE sku = 'ORPHAN'")).scalar()
        hub = conn.execute(sa.select(site.c.id).where(site.c.code == "HUB")).scalar()
        conn.execute(
            demand_history.insert(),
            [{"item_id": item_id, "site_id": hub, "requested_date": AS_OF, "quantity": 3}],
        )

    db.run(work)


def test_the_report_names_each_finding_and_its_owner(db: Database) -> None:
    _world(db)
    with db.read() as conn:
        findings = data_quality_findings(data_quality_inputs(conn))
    by_rule = {
        rule: set(zip(group["item"], group["supplier"], group["owner"], strict=True))
        for (rule,), group in findings.group_by("rule")
    }
    assert by_rule["lead_time_drift"] == {("FAST", "S1", "buyer")}
    assert by_rule["supplier_without_receipts"] == {(None, "IDLE", "purchasing")}
    assert by_rule["demand_without_supplier"] == {("ORPHAN", None, "buyer")}
    assert ("FAST", "S1", "master_data") in by_rule["pack_without_unit"]
    # Nobody entered dimensions in this network.
    assert {i for i, _, _ in by_rule["missing_dimensions"]} == {"FAST", "SLOW", "NONE", "ORPHAN"}


def test_data_health_on_the_command_line_prints_the_counts_per_rule(
    db: Database, db_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(db)
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    from stockpilot.settings import get_settings

    get_settings.cache_clear()
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["data-health"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    for rule in ("lead_time_drift", "supplier_without_receipts", "demand_without_supplier"):
        assert rule in result.output


def test_data_quality_over_the_api_pages_the_findings_and_counts_them(db: Database) -> None:
    _world(db)
    token = make_user(db, "admin")
    with TestClient(create_app(db, api_settings())) as client:
        first = client.get("/api/v1/data-quality?limit=2", headers=auth(token))
        assert first.status_code == 200, first.text
        body = first.json()
        assert len(body["items"]) == 2 and body["next_cursor"]
        total = sum(c["findings"] for c in body["counts"])
        rest = client.get(
            f"/api/v1/data-quality?limit=100&cursor={body['next_cursor']}", headers=auth(token)
        ).json()
        assert len(body["items"]) + len(rest["items"]) == total
        drift = client.get("/api/v1/data-quality?rule=lead_time_drift", headers=auth(token))
        assert [f["sku"] for f in drift.json()["items"]] == ["FAST"]
        assert client.get("/api/v1/data-quality").status_code == 401
