"""ASN files through the importer: a CSV or an X12 856 (told apart by content) is stored whole
or not at all, refusals name the row and column or the segment; an imported pallet is then
received by its SSCC through the one receiving service, PO and ASN lines following."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.importing import import_csv
from stockpilot.inbound.asn_schemas import AsnCreate, AsnLineCreate
from stockpilot.inbound.asns import AsnDocument, create_asns, get_asn
from stockpilot.inbound.receiving import receive_goods
from stockpilot.inbound.schemas import ReceiptCreate
from stockpilot.ledger.verify import verify
from stockpilot.network.service import create_location
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item
from stockpilot.persistence.warehouse_tables import asn, asn_line, purchase_order_line, task
from stockpilot.settings import get_settings
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import Conflict, NotFound, RowError, ValidationFailed
from tests.api.test_asns import Item, sscc, x12_856
from tests.support.world import build_world

ORDERS = (
    "number,site,supplier,sku,quantity\n"
    "PO-7001,WH1,S1,SKU-1,100\n"
    "PO-7001,WH1,S1,LOT-1,24\n"
    "PO-7001,WH1,S1,SER-1,2\n"
)
P1, P2 = sscc(7001), sscc(7002)
ASN_CSV = (
    "asn_number,purchase_order,po_line,sku,quantity,lot,expiry_date,serials,sscc,expected_date\n"
    f"ASN-7001,PO-7001,1,SKU-1,60,,,,{P1},2026-12-08\n"
    f"ASN-7001,PO-7001,2,LOT-1,24,L2611A,2028-01-31,,{P1},2026-12-08\n"
    f"ASN-7001,PO-7001,3,SER-1,2,,,SN-A|SN-B,00{P2},2026-12-08\n"
    f"ASN-7001,PO-7001,1,SKU-1,40,,,,{P2},2026-12-08\n"
)


@pytest.fixture
def world(db: Database, tmp_path: Path) -> Database:
    build_world(db)
    db.run(lambda conn: create_location(conn, SYSTEM, "WH1", "DOCK-1", "dock"))
    import_csv(db, "suppliers", _file(tmp_path, "s.csv", "code,name\nS1,Atlas\n"), actor=SYSTEM)
    import_csv(db, "purchase-orders", _file(tmp_path, "po.csv", ORDERS), actor=SYSTEM)
    return db


@pytest.fixture
def cli(world: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return CliRunner()


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _asns(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(asn)).scalar_one())


def test_an_asn_csv_imports_and_its_pallet_is_received_by_sscc(
    cli: CliRunner, world: Database, tmp_path: Path
) -> None:
    result = cli.invoke(app, ["import", "asns", str(_file(tmp_path, "asn.csv", ASN_CSV))])
    assert result.exit_code == 0, result.output
    receipt = world.run(
        lambda conn: receive_goods(conn, SYSTEM, ReceiptCreate(site="WH1", sscc=P2), max_lines=100)
    )
    assert [(ln["sku"], ln["quantity"]) for ln in receipt["lines"]] == [("SER-1", 2), ("SKU-1", 40)]
    assert receipt["purchase_order_status"] == "partially_received"
    with world.read() as conn:
        shown = get_asn(conn, SYSTEM, 1)
        assert shown["source"] == "csv" and shown["status"] == "receiving"
        assert [p["received"] for p in shown["pallets"]] == [False, True]
        received = conn.execute(
            sa.select(
                purchase_order_line.c.line_no, purchase_order_line.c.quantity_received
            ).order_by(purchase_order_line.c.line_no)
        ).all()
        assert [tuple(r) for r in received] == [(1, 40), (2, 0), (3, 2)]
        putaways = conn.execute(
            sa.select(sa.func.count()).select_from(task).where(task.c.type == "putaway")
        ).scalar_one()
        assert putaways == 2
        assert verify(conn).ok
    with pytest.raises(Conflict):
        world.run(
            lambda conn: receive_goods(
                conn, SYSTEM, ReceiptCreate(site="WH1", sscc=P2), max_lines=100
            )
        )


def test_an_x12_file_is_told_apart_by_its_content_and_imported(
    cli: CliRunner, world: Database, tmp_path: Path
) -> None:
    text = x12_856(
        "ASN-7002",
        "PO-7001",
        [
            (
                P1,
                [
                    Item(1, "SKU-1", 100),
                    Item(2, "LOT-1", 24, lot="L1", expiry_date=date(2028, 1, 1)),
                ],
            )
        ],
    )
    source = _file(tmp_path, "shipment.txt", text)
    result = cli.invoke(app, ["import", "asns", str(source)])
    assert result.exit_code == 0, result.output
    with world.read() as conn:
        shown = get_asn(conn, SYSTEM, 1)
    assert (shown["number"], shown["source"], shown["supplier"]) == ("ASN-7002", "x12", "S1")
    assert [(ln["sku"], ln["lot"], ln["expiry_date"]) for ln in shown["lines"]] == [
        ("SKU-1", None, None),
        ("LOT-1", "L1", "2028-01-01"),
    ]
    receipt = world.run(
        lambda conn: receive_goods(conn, SYSTEM, ReceiptCreate(site="WH1", asn=1), max_lines=100)
    )
    assert receipt["quantity"] == 124 and receipt["purchase_order_status"] == "partially_received"


def test_a_bad_csv_row_refuses_the_whole_file_naming_row_and_column(
    world: Database, tmp_path: Path
) -> None:
    cases = [
        (ASN_CSV.replace("LOT-1,24,L2611A", "NOPE,24,L2611A"), 2, "sku"),
        (ASN_CSV.replace("PO-7001,3,SER-1", "PO-0000,3,SER-1"), 3, "purchase_order"),
        (ASN_CSV.replace("LOT-1,24,L2611A", "LOT-1,24,"), 2, "lot"),
        (ASN_CSV.replace("SKU-1,40", "SKU-1,46"), 4, "quantity"),
        (ASN_CSV.replace(P1, P1[:-1] + str((int(P1[-1]) + 1) % 10), 1), 1, "sscc"),
        (ASN_CSV.replace("SN-A|SN-B", "SN-A"), 3, "serials"),
        (ASN_CSV.replace("PO-7001,2,LOT-1", "PO-7001,9,LOT-1"), 2, "po_line"),
        (ASN_CSV.replace("ASN-7001", "ASN-" + "7" * 41), 1, "asn_number"),
    ]  # fmt: skip
    for text, row, column in cases:
        with pytest.raises(RowError) as refused:
            import_csv(world, "asns", _file(tmp_path, "asn.csv", text), actor=SYSTEM)
        assert (refused.value.row, refused.value.column) == (row, column), str(refused.value)
    assert _asns(world) == 0


def test_a_bad_x12_file_names_the_segment_and_stores_nothing(
    world: Database, tmp_path: Path
) -> None:
    good = x12_856("ASN-7003", "PO-7001", [(P1, [Item(1, "SKU-1", 10)])])
    broken = good.replace("\nSE*", "\nSE*1", 1)
    with pytest.raises(ValidationFailed) as refused:
        import_csv(world, "asns", _file(tmp_path, "a.x12", broken), actor=SYSTEM)
    assert refused.value.field == "SE01"
    unknown = x12_856("ASN-7003", "PO-9999", [(P1, [Item(1, "SKU-1", 10)])])
    with pytest.raises(ValidationFailed) as refused:
        import_csv(world, "asns", _file(tmp_path, "b.x12", unknown), actor=SYSTEM)
    assert refused.value.field == "lines[0].purchase_order"
    assert "b.x12" in refused.value.detail and "HL 4" in refused.value.detail
    assert _asns(world) == 0


def test_an_unknown_pallet_is_not_found(world: Database) -> None:
    with pytest.raises(NotFound) as refused:
        world.run(
            lambda conn: receive_goods(
                conn, SYSTEM, ReceiptCreate(site="WH1", sscc=sscc(1)), max_lines=100
            )
        )
    assert refused.value.field == "sscc"
    with world.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(asn_line)).scalar_one() == 0


@contextmanager
def _counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in db.engines:
            event.remove(engine, "before_cursor_execute", count)


def test_an_asn_of_two_hundred_lines_issues_as_many_statements_as_one_of_three(
    world: Database, tmp_path: Path
) -> None:
    skus = [f"BULK-{i:04d}" for i in range(200)]
    world.run(lambda c: c.execute(item.insert(), [{"sku": s, "base_uom": "EA"} for s in skus]))
    rows = "".join(f"PO-BIG,WH1,S1,{s},10\n" for s in skus)
    import_csv(
        world,
        "purchase-orders",
        _file(tmp_path, "big.csv", ORDERS.split("\n")[0] + "\n" + rows),
        actor=SYSTEM,
    )

    def announce(number: str, count: int, pallets: int) -> list[str]:
        lines = [
            AsnLineCreate(
                purchase_order="PO-BIG", sku=s, quantity=Decimal(5), sscc=sscc(pallets + k % 7)
            )
            for k, s in enumerate(skus[:count])
        ]
        cmd = AsnCreate(number=number, lines=lines)
        with _counting(world) as statements:
            world.run(lambda conn: create_asns(conn, SYSTEM, [AsnDocument(cmd)]))
        return statements

    small = announce("ASN-S", 3, 8000)
    assert len(announce("ASN-L", 200, 9000)) == len(small) <= 20, small


def _race(workers: list[Any]) -> tuple[list[Any], list[BaseException]]:
    """Start every worker at once (a barrier); their results and their errors."""
    import threading

    barrier = threading.Barrier(len(workers))
    values: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(work: Any) -> None:
        barrier.wait()
        try:
            value = work()
        except BaseException as exc:  # every error is a finding
            with lock:
                errors.append(exc)
        else:
            with lock:
                values.append(value)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    return values, errors


def _announcer(db: Database, number: str, quantity: int, pallet: str) -> Any:
    line = AsnLineCreate(
        purchase_order="PO-7001", po_line=1, sku="SKU-1", quantity=Decimal(quantity), sscc=pallet
    )
    cmd = AsnCreate(number=number, lines=[line])
    return lambda: db.run(lambda conn: create_asns(conn, SYSTEM, [AsnDocument(cmd)]))


def test_racing_notices_of_one_pallet_store_it_once(world: Database, db_url: str) -> None:
    racers = Database(db_url, pool_size=8, max_overflow=0)
    try:
        values, errors = _race([_announcer(racers, f"ASN-R{k}", 1, sscc(4242)) for k in range(8)])
    finally:
        racers.dispose()
    assert len(values) == 1 and len(errors) == 7
    assert all(isinstance(e, Conflict) and e.field == "lines[0].sscc" for e in errors), errors
    with world.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(asn_line)).scalar_one() == 1


def test_racing_notices_of_one_po_line_stay_within_its_tolerance(
    world: Database, db_url: str
) -> None:
    # 100 ordered, 5 % tolerance: 105 may be announced, so five notices of 20 fit, not six.
    racers = Database(db_url, pool_size=8, max_overflow=0)
    try:
        values, errors = _race(
            [_announcer(racers, f"ASN-T{k}", 20, sscc(5000 + k)) for k in range(8)]
        )
    finally:
        racers.dispose()
    assert len(values) == 5, errors
    assert all(isinstance(e, ValidationFailed) and e.field == "lines[0].quantity" for e in errors)
    with world.read() as conn:
        total = conn.execute(sa.select(sa.func.sum(asn_line.c.quantity))).scalar_one()
    assert total == 100
