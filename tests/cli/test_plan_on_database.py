"""`stockpilot plan` without --from-csv plans the database and can export the policies."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from stockpilot.cli.plan import register
from stockpilot.persistence.db import Database
from tests.integration.test_planning_run import _network


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """A root so that ``plan`` stays a sub-command."""

    return app


def test_plan_on_the_database_prints_a_summary_and_writes_policies(
    db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _network(db)
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    from stockpilot.settings import get_settings

    get_settings.cache_clear()
    out = tmp_path / "policies.csv"
    result = CliRunner().invoke(_app(), ["plan", "--out", str(out)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "planning run" in result.output
    policies = pl.read_csv(out)
    assert policies.height == 4
    assert set(policies["site"]) == {"HUB", "BR1"}
    assert (policies["reorder_point"] >= policies["safety_stock"]).all()


def test_simulate_on_the_database_compares_scenarios_with_the_baseline(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _network(db)
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    from stockpilot.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(
        _app(), ["simulate", "--disruption", "6", "--spike-pct", "50", "--lead-time-factor", "2"]
    )
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    for name in ("baseline", "no receipts for 6", "demand +50%", "lead time x2"):
        assert name in result.output
    assert "Contingency stock" in result.output  # the buffers that restore the baseline


def test_simulate_on_the_database_replays_a_warehouse_capacity_scenario(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _network(db)
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    from stockpilot.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(_app(), ["simulate", "--inbound-lines", "1"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "baseline" in result.output and "warehouse capacity" in result.output
