"""CSV import and export: every kind, bad rows refused whole, concurrent imports, round trips."""

from __future__ import annotations

import io
import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from stockpilot.bootstrap import initialise
from stockpilot.importing import export_csv, import_csv
from stockpilot.importing import stock as stock_import
from stockpilot.ledger import operations, positions
from stockpilot.ledger.posting import LOCATION_FLAGS
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import (
    customer,
    demand_history,
    item,
    item_uom,
    location,
    lot,
    metadata,
    move,
    receipt_history,
    site,
    supplier,
)
from stockpilot.persistence.warehouse_tables import receipt, receipt_line, task
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import RowError, ValidationFailed
from tests.support.world import build_world, receive

SUPPLIERS = "code,name,lead_time_days,lead_time_std_days\nS1,Atlas,12,3\nS2,Orion,40,\n"
ITEMS = (
    "sku,description,base_uom,lot_tracked,shelf_life_days,pack_size,unit_cost,supplier,units\n"
    "BOLT-1,Hex bolt M8,EA,false,,10,0.35,S1,CS=100;PAL=4800\n"
    "OIL-1,Gear oil 1L,EA,true,730,1,8.50,S2,CS=12\n"
    "GLOVE-1,Nitrile glove,PR,,,1,,,\n"
)
LOCATIONS = (
    "site,code,type,zone,capacity,walk_sequence,hazard_class\n"
    "NEW,P-01,pick,PICK,400,1,\n"
    "NEW,R-01,bulk,BULK,6000,2,\n"
    "NEW,H-01,storage,HAZ,200,3,3\n"
)


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(db: Database, table: sa.Table) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _on_hand(db: Database, sku: str, site_code: str) -> int:
    with db.read() as conn:
        return int(positions.stock_position(conn, SYSTEM, sku, site_code)["quantity_on_hand"])


def _master(db: Database, tmp_path: Path) -> None:
    import_csv(db, "suppliers", _csv(tmp_path, "suppliers.csv", SUPPLIERS), actor=SYSTEM)
    import_csv(db, "items", _csv(tmp_path, "items.csv", ITEMS), actor=SYSTEM)
    import_csv(db, "locations", _csv(tmp_path, "locations.csv", LOCATIONS), actor=SYSTEM)


def test_items_import_creates_items_with_units_supplier_and_lot_tracking(
    db: Database, tmp_path: Path
) -> None:
    _master(db, tmp_path)
    with db.read() as conn:
        rows = {r.sku: r for r in conn.execute(sa.select(item))}
        units = conn.execute(
            sa.select(item.c.sku, item_uom.c.uom, item_uom.c.factor_numerator).join(item_uom)
        ).all()
        suppliers = dict(conn.execute(sa.select(supplier.c.id, supplier.c.code)).all())
    assert rows["OIL-1"].lot_tracked is True and rows["OIL-1"].shelf_life_days == 730
    assert rows["GLOVE-1"].base_uom == "PR" and rows["GLOVE-1"].unit_cost is None
    assert suppliers[rows["BOLT-1"].supplier_id] == "S1"
    assert sorted(units) == [("BOLT-1", "CS", 100), ("BOLT-1", "PAL", 4800), ("OIL-1", "CS", 12)]


def test_importing_the_same_master_data_again_updates_instead_of_duplicating(
    db: Database, tmp_path: Path
) -> None:
    _master(db, tmp_path)
    changed = ITEMS.replace("Hex bolt M8", "Hex bolt M8 zinc")
    summary = import_csv(db, "items", _csv(tmp_path, "items2.csv", changed), actor=SYSTEM)
    customers = "code,name,priority\nC9,Key account,1\n"
    import_csv(db, "customers", _csv(tmp_path, "c.csv", customers), actor=SYSTEM)
    import_csv(
        db, "customers", _csv(tmp_path, "c2.csv", customers.replace(",1", ",2")), actor=SYSTEM
    )
    assert (summary.created, summary.updated) == (0, 3)
    assert _count(db, item) == 3
    with db.read() as conn:
        bolt = conn.execute(sa.select(item).where(item.c.sku == "BOLT-1")).one()
        priority = conn.execute(sa.select(customer.c.priority)).scalar_one()
    assert bolt.description == "Hex bolt M8 zinc" and bolt.version == 2
    assert priority == 2


def test_locations_import_creates_the_new_site_with_its_zones_and_virtual_locations(
    db: Database, tmp_path: Path
) -> None:
    _master(db, tmp_path)
    with db.read() as conn:
        site_id = conn.execute(sa.select(site.c.id).where(site.c.code == "NEW")).scalar_one()
        bins = conn.execute(
            sa.select(location.c.code, location.c.kind, location.c.is_virtual).where(
                location.c.site_id == site_id
            )
        ).all()
    physical = sorted((c, k) for c, k, v in bins if not v)
    assert physical == [("H-01", "storage"), ("P-01", "pick"), ("R-01", "bulk")]
    assert any(c == "@SUPPLIER" for c, _, v in bins if v)


def test_stock_import_adds_to_what_is_there_in_any_unit_with_lots(
    db: Database, tmp_path: Path
) -> None:
    _master(db, tmp_path)
    stock = (
        "site,location,sku,quantity,uom,lot,expiry_date,unit_cost\n"
        "NEW,P-01,BOLT-1,2,CS,,,0.35\n"
        "NEW,R-01,BOLT-1,150,,,,\n"
        "NEW,H-01,OIL-1,24,,L-1,2027-03-31,8.5\n"
    )
    import_csv(db, "stock", _csv(tmp_path, "stock.csv", stock), actor=SYSTEM)
    summary = import_csv(db, "stock", _csv(tmp_path, "stock.csv", stock), actor=SYSTEM)
    assert summary.quantity == 200 + 150 + 24
    assert _on_hand(db, "BOLT-1", "NEW") == 2 * 350
    assert _on_hand(db, "OIL-1", "NEW") == 48
    with db.read() as conn:
        assert verify(conn).ok
        assert conn.execute(sa.select(lot.c.expiry_date)).scalar_one() == date(2027, 3, 31)
        documents = conn.execute(
            sa.select(move.c.document_type, move.c.reason_code, move.c.document_id).distinct()
        ).all()
        lines = conn.execute(sa.select(sa.func.count()).select_from(receipt_line)).scalar_one()
        putaways = conn.execute(sa.select(sa.func.count()).select_from(task)).scalar_one()
    # Each import is one receipt at the site, straight into the bins: no putaway to do.
    assert sorted((t, r) for t, r, _ in documents) == [("receipt", "OPENING")] * 2
    assert lines == 6 and putaways == 0


def test_a_stock_file_is_received_as_one_receipt_per_site_and_chunk_straight_into_its_bins(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _master(db, tmp_path)
    build_world(db)
    monkeypatch.setattr(stock_import, "POSTING_CHUNK", 2)
    text = (
        "site,location,sku,quantity\n"
        "NEW,P-01,BOLT-1,1\nWH1,A-01,SKU-1,4\nNEW,R-01,BOLT-1,2\nNEW,H-01,GLOVE-1,3\n"
        "WH1,A-02,SKU-1,5\n"
    )
    summary = import_csv(db, "stock", _csv(tmp_path, "stock.csv", text), actor=SYSTEM)
    assert summary.quantity == 15
    with db.read() as conn:
        receipts = conn.execute(
            sa.select(site.c.code, sa.func.count(receipt_line.c.id))
            .join(receipt, receipt.c.site_id == site.c.id)
            .join(receipt_line, receipt_line.c.receipt_id == receipt.c.id)
            .group_by(receipt.c.id, site.c.code)
        ).all()
        moves = conn.execute(
            sa.select(move.c.document_type, move.c.document_id, move.c.reason_code)
        ).all()
        receipt_ids = set(conn.execute(sa.select(receipt.c.id)).scalars())
        assert conn.execute(sa.select(sa.func.count()).select_from(task)).scalar_one() == 0
        assert verify(conn).ok
    assert sorted(tuple(r) for r in receipts) == [("NEW", 1), ("NEW", 2), ("WH1", 2)]
    assert {(t, r) for t, _, r in moves} == {("receipt", "OPENING")}
    assert {d for _, d, _ in moves} == receipt_ids
    assert _on_hand(db, "BOLT-1", "NEW") == 3 and _on_hand(db, "SKU-1", "WH1") == 9


def test_history_imports_append_demand_and_receipt_rows(db: Database, tmp_path: Path) -> None:
    _master(db, tmp_path)
    import_csv(db, "customers", _csv(tmp_path, "c.csv", "code,name\nC1,First\n"), actor=SYSTEM)
    demand = (
        "item,site,date,quantity,customer,quantity_fulfilled\n"
        "BOLT-1,NEW,2024-01-08,40,C1,30\n"
        "BOLT-1,NEW,2024-01-15,25,,\n"
    )
    receipts = (
        "item,site,supplier,order_date,receipt_date,quantity\n"
        "BOLT-1,NEW,S1,2024-01-02,2024-01-16,500\n"
    )
    import_csv(db, "demand-history", _csv(tmp_path, "d.csv", demand), actor=SYSTEM)
    import_csv(db, "receipt-history", _csv(tmp_path, "r.csv", receipts), actor=SYSTEM)
    with db.read() as conn:
        lines = conn.execute(
            sa.select(
                demand_history.c.requested_date,
                demand_history.c.quantity,
                demand_history.c.quantity_fulfilled,
            ).order_by(demand_history.c.requested_date)
        ).all()
        receipt = conn.execute(sa.select(receipt_history)).one()
    assert [tuple(r) for r in lines] == [(date(2024, 1, 8), 40, 30), (date(2024, 1, 15), 25, None)]
    assert (receipt.receipt_date - receipt.order_date).days == 14


BAD_FILES = [
    ("items", ITEMS.replace("OIL-1,Gear oil 1L,EA,true,730,1", "OIL-1,Gear oil 1L,EA,true,730,0"),
     2, "pack_size"),
    ("items", ITEMS.replace(",S2,", ",S7,"), 2, "supplier"),
    ("items", ITEMS.replace("CS=12", "CS12"), 2, "units"),
    ("items", ITEMS + "BOLT-1,Again,EA,,,,,,\n", 4, "sku"),
    ("customers", "code,name,priority\nC1,One,1\nC2,Two,0\n", 2, "priority"),
    ("suppliers", "code,name,lead_time_days\nS8,X,3\nS9,Y,soon\n", 2, "lead_time_days"),
    ("locations", LOCATIONS.replace("R-01,bulk", "R-01,shelf"), 2, "type"),
    ("stock", "site,location,sku,quantity\nNEW,P-01,BOLT-1,5\nNEW,P-99,BOLT-1,5\n", 2, "location"),
    ("stock", "site,location,sku,quantity\nNEW,P-01,BOLT-1,5\nNEW,P-01,NOPE,5\n", 2, "sku"),
    ("stock", "site,location,sku,quantity,uom\nNEW,P-01,BOLT-1,1,CS\nNEW,P-01,BOLT-1,0.5,EA\n",
     2, "quantity"),
    ("stock", "site,location,sku,quantity\nNEW,P-01,BOLT-1,5\nNEW,H-01,OIL-1,5\n", 2, "lot"),
    ("stock", "site,location,sku,quantity\nNEW,P-01,BOLT-1,5\nNOPE,P-01,BOLT-1,5\n", 2, "site"),
    ("stock", "site,location,sku,quantity\nNEW,P-01,BOLT-1,5\nNEW,P-01,BOLT-1,five\n", 2,
     "quantity"),
    ("stock", "site,location,sku,quantity,status\nNEW,P-01,BOLT-1,5,\nNEW,P-01,BOLT-1,5,lost\n",
     2, "status"),
    ("stock", "site,location,sku,quantity,owner\nNEW,P-01,BOLT-1,5,\nNEW,P-01,BOLT-1,5,NOPE\n",
     2, "owner"),
    ("stock", "site,location,sku,quantity,serials\nNEW,P-01,BOLT-1,5,\nNEW,P-01,BOLT-1,1,SN-1\n",
     2, "serials"),
    ("stock", "site,location,sku,quantity,lot,expiry_date\nNEW,H-01,OIL-1,5,L1,2027-01-31\n"
     "NEW,R-01,OIL-1,5,L1,2027-02-28\n", 2, "expiry_date"),
    ("demand-history", "item,site,date,quantity\nBOLT-1,NEW,2024-01-08,4\nBOLT-1,NEW,8/1/24,4\n",
     2, "date"),
    ("receipt-history", "item,site,supplier,order_date,receipt_date,quantity\n"
     "BOLT-1,NEW,S1,2024-01-08,2024-01-01,5\n", 1, "receipt_date"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "text", "row", "column"), BAD_FILES)
def test_a_bad_row_names_its_row_and_column_and_nothing_is_imported(
    db: Database, tmp_path: Path, kind: str, text: str, row: int, column: str
) -> None:
    _master(db, tmp_path)
    tables = (item, item_uom, customer, supplier, location, move, demand_history, receipt_history)
    before = {t.name: _count(db, t) for t in tables}
    with pytest.raises(RowError) as err:
        import_csv(db, kind, _csv(tmp_path, "bad.csv", text), actor=SYSTEM)
    assert (err.value.row, err.value.column) == (row, column)
    assert f"row {row}, column {column!r}" in str(err.value)
    assert {t.name: _count(db, t) for t in tables} == before


def test_a_column_the_kind_does_not_know_is_refused_by_name(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as err:
        import_csv(
            db, "customers", _csv(tmp_path, "c.csv", "code,name,colour\nC1,One,red\n"), actor=SYSTEM
        )
    assert err.value.field == "colour"
    assert _count(db, customer) == 0


def test_an_import_cannot_switch_lot_tracking_of_an_existing_item(
    db: Database, tmp_path: Path
) -> None:
    _master(db, tmp_path)
    flipped = ITEMS.replace("OIL-1,Gear oil 1L,EA,true", "OIL-1,Gear oil 1L,EA,false")
    with pytest.raises(RowError) as err:
        import_csv(db, "items", _csv(tmp_path, "items.csv", flipped), actor=SYSTEM)
    assert (err.value.row, err.value.column) == (2, "lot_tracked")


def test_concurrent_imports_of_the_same_keys_all_land_and_the_ledger_balances(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    _master(db, tmp_path)
    workers = 4
    stock = "".join(f"NEW,P-01,BOLT-1,{n}\nNEW,R-01,BOLT-1,1\n" for n in range(1, 51))
    files = [
        (
            _csv(tmp_path, f"s{w}.csv", "site,location,sku,quantity\n" + stock),
            # Each worker also brings a new site of the same name and shared new items.
            _csv(tmp_path, f"l{w}.csv", f"site,code,type\nRACE,B-{w},bulk\nRACE,SHARED,pick\n"),
            _csv(tmp_path, f"i{w}.csv", "sku,description,base_uom\n" + "".join(
                f"RACE-{n},Shared {n},EA\n" for n in range(200))),
        )
        for w in range(workers)
    ]  # fmt: skip
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work(paths: tuple[Path, Path, Path]) -> None:
        own = Database(db_url, pool_size=1, max_overflow=1)
        try:
            barrier.wait()
            import_csv(own, "locations", paths[1], actor=SYSTEM)
            import_csv(own, "items", paths[2], actor=SYSTEM)
            import_csv(own, "stock", paths[0], actor=SYSTEM)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=work, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _on_hand(db, "BOLT-1", "NEW") == workers * (sum(range(1, 51)) + 50)
    with db.read() as conn:
        assert verify(conn).ok
        race = conn.execute(sa.select(site.c.id).where(site.c.code == "RACE")).scalar_one()
        bins = conn.execute(
            sa.select(sa.func.count()).where(location.c.site_id == race, ~location.c.is_virtual)
        ).scalar_one()
    assert bins == workers + 1
    assert _count(db, item) == 3 + 200


def _export(db: Database, kind: str) -> str:
    out = io.StringIO()
    with db.read() as conn:
        export_csv(conn, kind, out)
    return out.getvalue()


def _wipe(db: Database) -> None:
    with db.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    LOCATION_FLAGS.clear()
    initialise(db)


def test_exported_files_import_into_an_empty_database_and_export_identically(
    db: Database, tmp_path: Path
) -> None:
    _master(db, tmp_path)
    import_csv(
        db, "customers", _csv(tmp_path, "c.csv", "code,name,priority\nC5,Five,1\n"), actor=SYSTEM
    )
    build_world(db)
    receive(db, "SKU-1", 30, "A-02")
    receive(db, "LOT-1", 7, "B-01", lot="L9", expiry_date=date(2026, 5, 1), status="quarantine")
    serials = operations.StockLine("SER-1", 2, "A-01", serials=["SN-2", "SN-1"])
    db.run(lambda conn: operations.receive(conn, SYSTEM, "WH1", [serials]))
    kinds = ("suppliers", "items", "customers", "locations", "stock")
    first = {kind: _export(db, kind) for kind in kinds}
    _wipe(db)
    for kind in kinds:
        import_csv(db, kind, _csv(tmp_path, f"{kind}.csv", first[kind]), actor=SYSTEM)
    assert {kind: _export(db, kind) for kind in kinds} == first
    assert "WH1,B-01,LOT-1,L9,2026-05-01,quarantine,OWN,7,0," in first["stock"]
    assert "WH1,A-01,SER-1,,,available,OWN,2,0,SN-1;SN-2" in first["stock"]
    with db.read() as conn:
        assert verify(conn).ok


def test_export_of_moves_can_be_limited_to_one_site(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01", site="WH1")
    receive(db, "SKU-1", 3, "A-01", site="WH2")
    lines = _export(db, "moves").splitlines()
    out = io.StringIO()
    with db.read() as conn:
        written = export_csv(conn, "moves", out, "WH2")
    assert len(lines) == 3 and written == 1
    assert ",WH2,A-01," in out.getvalue()


def test_the_example_files_of_the_documentation_import_in_order(db: Database) -> None:
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    order = ("suppliers", "items", "customers", "locations", "stock")
    for kind in (*order, "demand-history", "receipt-history"):
        import_csv(db, kind, examples / f"{kind}.csv", actor=SYSTEM)
    assert _on_hand(db, "FAS-000001", "HUB") == 300 + 2000
    assert _count(db, demand_history) == 3 and _count(db, receipt_history) == 2
    with db.read() as conn:
        assert verify(conn).ok
