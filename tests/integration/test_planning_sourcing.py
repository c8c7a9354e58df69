"""Alternate sources from the database's supplier-item rows and receipts, by CLI and API."""

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
from stockpilot.catalog.schemas import SupplierCreate
from stockpilot.cli.plan import register
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item, supplier, supplier_item
from stockpilot.planning.sourcing import alternate_sources
from stockpilot.replenishment.queries import sourcing_inputs
from stockpilot.shared.actor import SYSTEM
from tests.api.conftest import api_settings, auth, make_user
from tests.integration.test_planning_run import _network


def _second_supplier(db: Database) -> None:
    """FAST can also come from S2: a bit dearer (6 against 5), a week faster (14 days)."""
    _network(db)

    def work(conn: Connection) -> None:
        catalog.create_supplier(conn, SYSTEM, SupplierCreate(code="S2", name="Second"))
        fast = conn.execute(sa.select(item.c.id).where(item.c.sku == "FAST")).scalar()
        s2 = conn.execute(sa.select(supplier.c.id).where(supplier.c.code == "S2")).scalar()
        conn.execute(
            supplier_item.insert().values(
                supplier_id=s2, item_id=fast, lead_time_days=14.0, unit_cost=Decimal(6)
            )
        )

    db.run(work)


def test_when_the_supplier_is_disrupted_the_second_one_is_chosen(db: Database) -> None:
    _second_supplier(db)
    with db.read() as conn:
        primaries, candidates = sourcing_inputs(conn)
    # S1 quotes 21 days and delivers in 14-16: no drift, nothing to replace.
    assert alternate_sources(primaries, candidates).height == 0
    found = alternate_sources(primaries, candidates, ["S1"])
    rows = {r["item"]: r for r in found.iter_rows(named=True)}
    assert rows["FAST"]["alternate"] == "S2"
    assert rows["SLOW"]["alternate"] is None  # only S1 supplies it


def test_alternate_sources_by_command_line_and_api(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _second_supplier(db)
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    from stockpilot.settings import get_settings

    get_settings.cache_clear()
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["sourcing", "--disrupted", "S1"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "S2" in result.output
    token = make_user(db, "admin")
    with TestClient(create_app(db, api_settings())) as client:
        body = client.get("/api/v1/alternate-sources?disrupted=S1", headers=auth(token)).json()
        assert {r["sku"]: r["alternate"] for r in body["items"]}["FAST"] == "S2"
