"""Document imports from CSV: purchase orders grouped by number, all rows or none, errors that
name the row and column; the acceptance contract's two-column supplier file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.importing import import_csv
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import audit_log, supplier
from stockpilot.persistence.warehouse_tables import purchase_order, purchase_order_line
from stockpilot.settings import get_settings
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import RowError
from tests.support.world import build_world

ORDERS = (
    "number,site,supplier,sku,quantity,uom,expected_date,unit_price,currency,status\n"
    "PO-1,WH1,S1,SKU-1,10,CS,2026-12-01,60.00,EUR,\n"
    "PO-2,WH2,S1,LOT-1,5,,,,,draft\n"
    "PO-1,WH1,S1,SKU-2,250,,2026-12-04,0.01,EUR,\n"
)


@pytest.fixture
def cli(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return CliRunner()


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(db: Database, table: sa.Table) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_supplier_file_with_only_code_and_name_imports(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    source = _file(tmp_path, "suppliers.csv", "code,name\nS1,Atlas Fasteners\nS2,Orion Seals\n")
    result = cli.invoke(app, ["import", "suppliers", str(source)])
    assert result.exit_code == 0, result.output
    with db.read() as conn:
        rows = conn.execute(sa.select(supplier.c.code, supplier.c.name).order_by(supplier.c.code))
        assert [tuple(r) for r in rows] == [("S1", "Atlas Fasteners"), ("S2", "Orion Seals")]


def test_purchase_orders_import_groups_rows_by_number_in_base_units(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    build_world(db)
    import_csv(db, "suppliers", _file(tmp_path, "s.csv", "code,name\nS1,Atlas\n"), actor=SYSTEM)
    result = cli.invoke(app, ["import", "purchase-orders", str(_file(tmp_path, "po.csv", ORDERS))])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    with db.read() as conn:
        orders = {
            r.number: r
            for r in conn.execute(sa.select(purchase_order).order_by(purchase_order.c.id))
        }
        lines = conn.execute(
            sa.select(
                purchase_order.c.number,
                purchase_order_line.c.line_no,
                purchase_order_line.c.quantity,
                purchase_order_line.c.unit_cost,
                purchase_order_line.c.due_date,
            )
            .join(purchase_order, purchase_order.c.id == purchase_order_line.c.order_id)
            .order_by(purchase_order.c.number, purchase_order_line.c.line_no)
        ).all()
        audited = conn.execute(
            sa.select(sa.func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "purchase_order.created")
        ).scalar_one()
    assert (orders["PO-1"].status, orders["PO-2"].status) == ("confirmed", "draft")
    assert [(n, no, q) for n, no, q, _, _ in lines] == [
        ("PO-1", 1, 120),
        ("PO-1", 2, 250),
        ("PO-2", 1, 5),
    ]
    assert lines[0].unit_cost == 5 and str(lines[1].due_date)[:10] == "2026-12-04"
    assert audited == 2


@pytest.mark.parametrize(
    ("bad_row", "row", "column"),
    [
        ("PO-1,WH1,S1,NOPE,1,,,,,", 3, "sku"),
        ("PO-1,WH2,S1,SKU-1,1,,,,,", 3, "site"),
        ("PO-3,WH1,S9,SKU-1,1,,,,,", 3, "supplier"),
        ("PO-3,WH1,S1,SKU-1,1.5,,,,,", 3, "quantity"),
        ("PO-3,WH1,S1,SKU-1,1,BOX,,,,", 3, "uom"),
        ("PO-3,WH1,S1,SKU-1,1,,2026-13-01,,,", 3, "expected_date"),
    ],
)
def test_a_bad_row_refuses_the_whole_file_naming_row_and_column(
    db: Database, tmp_path: Path, bad_row: str, row: int, column: str
) -> None:
    build_world(db)
    import_csv(db, "suppliers", _file(tmp_path, "s.csv", "code,name\nS1,Atlas\n"), actor=SYSTEM)
    text = ORDERS.splitlines()[0] + "\n" + "\n".join(ORDERS.splitlines()[1:3]) + "\n" + bad_row
    with pytest.raises(RowError) as refused:
        import_csv(db, "purchase-orders", _file(tmp_path, "po.csv", text + "\n"), actor=SYSTEM)
    assert (refused.value.row, refused.value.column) == (row, column), str(refused.value)
    assert _count(db, purchase_order) == 0 and _count(db, purchase_order_line) == 0


def test_an_order_number_already_used_is_refused_on_its_first_row(
    db: Database, tmp_path: Path
) -> None:
    build_world(db)
    import_csv(db, "suppliers", _file(tmp_path, "s.csv", "code,name\nS1,Atlas\n"), actor=SYSTEM)
    import_csv(db, "purchase-orders", _file(tmp_path, "a.csv", ORDERS), actor=SYSTEM)
    again = ORDERS.replace("PO-2", "PO-9")
    with pytest.raises(RowError) as refused:
        import_csv(db, "purchase-orders", _file(tmp_path, "b.csv", again), actor=SYSTEM)
    assert (refused.value.row, refused.value.column) == (1, "number")
    assert _count(db, purchase_order) == 2
