"""``stockpilot valuation`` and the valuation columns of the CSV imports: items.csv takes
``cost_method`` and ``standard_cost``; each ``import stock`` row with a ``unit_cost`` is a
receipt at that cost (a cost layer)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item
from stockpilot.persistence.valuation_tables import cost_layer
from stockpilot.settings import get_settings
from tests.support.valuation import cogs, move_out, value
from tests.support.world import build_world


@pytest.fixture
def cli(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return CliRunner()


def _import(cli: CliRunner, tmp_path: Path, kind: str, text: str) -> None:
    source = tmp_path / f"{kind}.csv"
    source.write_text(text)
    result = cli.invoke(app, ["import", kind, str(source)])
    assert result.exit_code == 0, result.output


def test_items_csv_sets_the_cost_method_and_stock_rows_with_a_cost_are_layers(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    build_world(db)
    _import(cli, tmp_path, "items", (
        "sku,description,base_uom,cost_method,standard_cost\n"
        "AVG-1,Average,EA,average,\n"
        "STD-1,Standard,EA,standard,6.50\n"
        "SKU-1,Plain,EA,fifo,\n"
    ))  # fmt: skip
    with db.read() as conn:
        methods = dict(conn.execute(sa.select(item.c.sku, item.c.cost_method)).all())
        standard = conn.execute(
            sa.select(item.c.standard_cost).where(item.c.sku == "STD-1")
        ).scalar_one()
    assert (methods["AVG-1"], methods["STD-1"], methods["SKU-1"]) == ("average", "standard", "fifo")
    assert Decimal(standard) == Decimal("6.50")
    _import(cli, tmp_path, "stock", (
        "site,location,sku,quantity,unit_cost\n"
        "WH1,A-01,SKU-1,10,5.00\n"
        "WH1,A-01,SKU-1,10,7.00\n"
        "WH1,A-02,AVG-1,10,5.00\n"
        "WH1,A-02,AVG-1,10,7.00\n"
    ))  # fmt: skip
    with db.read() as conn:
        layers = conn.execute(sa.select(sa.func.count()).select_from(cost_layer)).scalar_one()
    assert layers == 2  # the FIFO item's two rows; the average item keeps no layers
    move_out(db, "SKU-1", 15)
    move_out(db, "AVG-1", 15, bin_code="A-02")
    assert (cogs(db, "SKU-1"), cogs(db, "AVG-1")) == (Decimal("85.00"), Decimal("90.00"))
    result = cli.invoke(app, ["valuation", "value", "--site", "WH1", "--sku", "SKU-1"])
    assert result.exit_code == 0, result.output
    assert "5 units, 35.00 EUR" in result.stdout
    exported = cli.invoke(app, ["valuation", "value", "--site", "WH1", "--csv"])
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.splitlines() == [
        "sku,quantity_on_hand,value,currency",
        "AVG-1,5,30.00,EUR",
        "SKU-1,5,35.00,EUR",
    ]
    aged = cli.invoke(app, ["valuation", "aging", "--site", "WH1", "--sku", "SKU-1"])
    assert aged.exit_code == 0, aged.output
    assert aged.stdout.splitlines() == ["sku,age_days,quantity,value,currency",
                                        "SKU-1,0-30,5,35.00,EUR"]  # fmt: skip
    sold = cli.invoke(app, ["valuation", "cogs", "--site", "WH1"])
    assert sold.exit_code == 0 and "cost of goods sold 175.00 EUR" in sold.stdout
    assert value(db, "AVG-1")["value"] == "30.00"
    dead = cli.invoke(app, ["valuation", "dead-stock", "--site", "WH1", "--days", "30"])
    assert dead.exit_code == 0, dead.output
    assert dead.stdout.splitlines() == ["sku,quantity_on_hand,value,currency"]  # both moved
    booked = cli.invoke(app, ["valuation", "journal", "--site", "WH1"])
    assert booked.exit_code == 0, booked.output
    rows = booked.stdout.splitlines()
    assert rows[0] == "company,date,account,debit,credit,document_type,document_id,line_no"
    debit = sum(Decimal(r.split(",")[3]) for r in rows[1:])
    credit = sum(Decimal(r.split(",")[4]) for r in rows[1:])
    assert debit == credit == Decimal("240.00") + Decimal("175.00")  # receipts, then COGS
    verified = cli.invoke(app, ["ledger", "verify"])
    assert verified.exit_code == 0 and "0 value drifts" in verified.stdout


def test_a_bad_cost_method_in_items_csv_is_refused_naming_row_and_column(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    build_world(db)
    source = tmp_path / "items.csv"
    source.write_text("sku,description,base_uom,cost_method\nX-1,X,EA,lifo\n")
    result = cli.invoke(app, ["import", "items", str(source)])
    assert result.exit_code == 1
    assert "cost_method" in result.stderr and "nothing was imported" in result.stderr
    bad_day = cli.invoke(app, ["valuation", "value", "--at", "2026-02-30"])
    assert bad_day.exit_code == 1 and "at must be an ISO date" in bad_day.stderr
