"""The ``stockpilot`` command line, run in-process against the test database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.governance.users import authenticate
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import balance, customer, location, site
from stockpilot.settings import get_settings
from tests.support.world import build_world, receive


@pytest.fixture
def cli(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return CliRunner()


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_user_add_prints_a_working_token_as_the_last_line(cli: CliRunner, db: Database) -> None:
    build_world(db)
    result = cli.invoke(app, ["user", "add", "ann", "--role", "planner", "--site", "WH1"])
    assert result.exit_code == 0, result.output
    token = _last_line(result.stdout)
    with db.read() as conn:
        actor = authenticate(conn, token)
        wh1 = conn.execute(sa.select(site.c.id).where(site.c.code == "WH1")).scalar_one()
    assert (actor.name, actor.role, actor.all_sites, actor.site_ids) == (
        "ann",
        "planner",
        False,
        frozenset({wh1}),
    )


def test_a_refused_command_says_why_on_stderr_without_a_traceback(cli: CliRunner) -> None:
    result = cli.invoke(app, ["user", "add", "bob", "--role", "wizard"])
    assert result.exit_code == 1
    assert "role must be one of" in result.stderr
    assert "Traceback" not in result.output


def test_ledger_verify_exits_zero_when_balances_equal_the_moves(
    cli: CliRunner, db: Database
) -> None:
    build_world(db)
    receive(db, "SKU-1", 12)
    result = cli.invoke(app, ["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "0 drifts" in result.stdout


def test_ledger_verify_exits_non_zero_and_lists_a_drifted_balance(
    cli: CliRunner, db: Database
) -> None:
    build_world(db)
    receive(db, "SKU-1", 12)
    with db.transaction() as conn:  # corrupt one balance behind the ledger's back
        conn.execute(
            sa.update(balance)
            .where(~balance.c.is_virtual)
            .values(quantity_on_hand=balance.c.quantity_on_hand + 1)
        )
    result = cli.invoke(app, ["ledger", "verify"])
    assert result.exit_code == 1
    assert "1 drifts" in result.stdout and "Ledger drift" in result.stdout
    assert "quantity_on_hand" in result.stdout and "WH1/A-01" in result.stdout


def test_import_then_export_through_the_command_line(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("code,name,priority\nC7,Seventh,2\nC8,Eighth,\n", encoding="utf-8")
    imported = cli.invoke(app, ["import", "customers", str(source)])
    assert imported.exit_code == 0, imported.output
    assert "imported customers: 2 rows, 2 created" in imported.stdout
    exported = cli.invoke(app, ["export", "customers"])
    assert exported.stdout.splitlines() == [
        "code,name,priority",
        "C7,Seventh,2",
        "C8,Eighth,3",
    ]
    target = tmp_path / "out.csv"
    to_file = cli.invoke(app, ["export", "customers", "--out", str(target)])
    assert to_file.exit_code == 0
    assert target.read_text(encoding="utf-8") == exported.stdout


def test_a_bad_row_fails_the_import_naming_row_and_column(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    source = tmp_path / "locations.csv"
    source.write_text("site,code,type\nWH9,A-1,pick\nWH9,A-2,roof\n", encoding="utf-8")
    result = cli.invoke(app, ["import", "locations", str(source)])
    assert result.exit_code == 1
    assert "row 2, column 'type'" in result.stderr and "nothing was imported" in result.stderr
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(location)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(customer)).scalar_one() == 0


def test_export_of_stock_for_one_site(cli: CliRunner, db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 4, site="WH1")
    receive(db, "SKU-1", 9, "A-02", site="WH2")
    result = cli.invoke(app, ["export", "stock", "--site", "WH2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == ["WH2,A-02,SKU-1,,,available,OWN,9,0,"]


def test_demo_loads_once_and_if_empty_skips_the_second_time(cli: CliRunner, db: Database) -> None:
    first = cli.invoke(app, ["demo", "--skus", "30", "--sites", "2", "--seed", "3"])
    assert first.exit_code == 0, first.output
    assert _last_line(first.stdout).startswith("sp_")
    again = cli.invoke(app, ["demo", "--skus", "30", "--if-empty"])
    assert again.exit_code == 0 and "skipped" in again.stdout
    refused = cli.invoke(app, ["demo", "--skus", "30"])
    assert refused.exit_code == 1 and "already has items" in refused.stderr
    verified = cli.invoke(app, ["ledger", "verify"])
    assert verified.exit_code == 0


def test_init_migrates_and_reports_the_database(cli: CliRunner) -> None:
    result = cli.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert "database ready" in result.stdout


def test_consignment_consumption_lists_what_each_owner_invoices(
    cli: CliRunner, db: Database
) -> None:
    from stockpilot.consignment.service import record_consumption
    from stockpilot.network import service as network

    build_world(db)

    def used(conn: Any) -> None:
        vendor = network.ensure_company(conn, "VEND", "Vendor")
        site = network.site_by_code(conn, "WH1")
        item_id = conn.execute(sa.text("SELECT id FROM item WHERE sku = 'SKU-1'")).scalar_one()
        record_consumption(conn, site.id, site.company_id, [(vendor, item_id, 0, 5)], "shipment", 1)
        # The site's own company is never a consignment owner.
        record_consumption(
            conn, site.id, site.company_id, [(site.company_id, item_id, 0, 9)], "shipment", 2
        )

    db.run(used)
    result = cli.invoke(app, ["consignment", "consumption", "--owner", "VEND", "--csv"])
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert rows[0].startswith("owner,site,sku,lot,quantity")
    assert rows[1].startswith("VEND,WH1,SKU-1,,5,shipment,1,")
    assert len(rows) == 2
    table = cli.invoke(app, ["consignment", "consumption"])
    assert table.exit_code == 0 and "VEND" in table.stdout and "5" in table.stdout
    unknown = cli.invoke(app, ["consignment", "consumption", "--owner", "NOPE"])
    assert unknown.exit_code == 1 and "owner" in unknown.stderr
