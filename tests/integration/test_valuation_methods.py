"""Worked examples of each cost method, as exact decimals, on SQLite and PostgreSQL: receive
10 at 5.00 and 10 at 7.00, ship 15."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import move
from stockpilot.persistence.valuation_tables import cost_layer, valuation_entry
from tests.support.valuation import (
    cogs,
    move_out,
    receive_at,
    set_method,
    transfer,
    value,
)
from tests.support.world import build_world


def _worked_example(db: Database, method: str, standard: str | None = None) -> None:
    build_world(db)
    set_method(db, "SKU-1", method, standard)
    receive_at(db, "SKU-1", 10, "5.00")
    receive_at(db, "SKU-1", 10, "7.00")
    move_out(db, "SKU-1", 15)


def _ok(db: Database, *, valued: bool = True) -> None:
    with db.read() as conn:
        report = verify(conn)
    assert report.ok, (report.drifts, report.value_drifts)
    assert (report.value_areas_checked >= 1) is valued


def test_fifo_ships_the_oldest_layers_first(db: Database) -> None:
    _worked_example(db, "fifo")
    assert cogs(db, "SKU-1") == Decimal("85.00")
    body = value(db, "SKU-1")
    assert body["quantity_on_hand"] == 5
    assert body["value"] == "35.00"
    with db.read() as conn:
        layers = conn.execute(
            sa.select(cost_layer.c.quantity_remaining, cost_layer.c.value_remaining).order_by(
                cost_layer.c.id
            )
        ).all()
        shipped = conn.execute(sa.select(move.c.value).where(move.c.document_type == "test"))
        assert [tuple(r) for r in layers] == [(0, 0), (5, 35_000_000)]
        assert [r.value for r in shipped] == [85_000_000]
    _ok(db)


def test_moving_average_ships_at_the_average_cost(db: Database) -> None:
    _worked_example(db, "average")
    assert cogs(db, "SKU-1") == Decimal("90.00")
    body = value(db, "SKU-1")
    assert (body["quantity_on_hand"], body["value"]) == (5, "30.00")
    _ok(db)


def test_standard_cost_books_receipts_at_standard_and_records_the_variance(db: Database) -> None:
    _worked_example(db, "standard", "6.50")
    assert cogs(db, "SKU-1") == Decimal("97.50")
    body = value(db, "SKU-1")
    assert (body["quantity_on_hand"], body["value"]) == (5, "32.50")
    with db.read() as conn:
        variances = conn.execute(
            sa.select(valuation_entry.c.price_variance)
            .where(valuation_entry.c.kind == "receipt")
            .order_by(valuation_entry.c.id)
        ).scalars()
        # 10 at 5.00 against 65.00 standard: 15.00 below; 10 at 7.00: 5.00 above.
        assert list(variances) == [-15_000_000, 5_000_000]
    _ok(db)


def test_an_average_that_does_not_divide_evenly_leaves_no_remainder(db: Database) -> None:
    build_world(db)
    set_method(db, "SKU-1", "average")
    receive_at(db, "SKU-1", 3, "10.00")
    move_out(db, "SKU-1", 1)
    move_out(db, "SKU-1", 1)
    assert value(db, "SKU-1")["value"] == "10.00"
    move_out(db, "SKU-1", 1)
    assert cogs(db, "SKU-1") == Decimal("30.00")
    assert value(db, "SKU-1")["value"] == "0.00"
    _ok(db)


def test_fifo_is_lot_aware_the_layer_of_the_lot_that_moved_is_consumed(db: Database) -> None:
    build_world(db)
    receive_at(db, "LOT-1", 10, "5.00", lot="L1")
    receive_at(db, "LOT-1", 10, "7.00", lot="L2")
    move_out(db, "LOT-1", 4, lot="L2")  # the newer lot moves: its own layer, not the oldest
    assert cogs(db, "LOT-1") == Decimal("28.00")
    assert value(db, "LOT-1")["value"] == "92.00"
    _ok(db)


def test_a_site_transfer_carries_its_layers_cost_through_in_transit(db: Database) -> None:
    build_world(db)
    receive_at(db, "SKU-1", 10, "5.00")
    receive_at(db, "SKU-1", 10, "7.00")
    transfer(db, "SKU-1", 15, leg="out")
    shipped = value(db, "SKU-1")
    assert (shipped["quantity_in_transit"], shipped["in_transit_value"]) == (15, "85.00")
    assert shipped["value"] == "35.00"
    transfer(db, "SKU-1", 12, leg="in")
    arrived = value(db, "SKU-1", "WH2")
    assert (arrived["quantity_on_hand"], arrived["value"]) == (12, "64.00")  # 10×5 + 2×7
    assert value(db, "SKU-1")["in_transit_value"] == "21.00"
    assert cogs(db, "SKU-1") == Decimal("0.00")
    _ok(db)


def test_adjustments_and_scrap_take_the_layers_cost_and_found_stock_the_average(
    db: Database,
) -> None:
    build_world(db)
    receive_at(db, "SKU-1", 10, "5.00")
    move_out(db, "SKU-1", 2, "scrap")
    move_out(db, "SKU-1", 1, "inventory_loss")
    move_out(db, "SKU-1", 3, "inventory_loss", reverse=True)  # found: at the current cost
    body = value(db, "SKU-1")
    assert (body["quantity_on_hand"], body["value"]) == (10, "50.00")
    _ok(db)


def test_a_customer_return_gives_cogs_back(db: Database) -> None:
    build_world(db)
    set_method(db, "SKU-1", "average")
    receive_at(db, "SKU-1", 10, "4.00")
    move_out(db, "SKU-1", 5)
    move_out(db, "SKU-1", 2, reverse=True)
    assert cogs(db, "SKU-1") == Decimal("12.00")
    assert value(db, "SKU-1")["value"] == "28.00"
    _ok(db)


def test_consigned_stock_carries_no_company_value(db: Database) -> None:
    from stockpilot.ledger import operations
    from stockpilot.shared.actor import SYSTEM

    build_world(db)
    db.run(
        lambda conn: (
            operations.receive(
                conn,
                SYSTEM,
                "WH1",
                [operations.StockLine("SKU-1", 10, "A-01", owner="VENDOR", unit_cost=Decimal("3"))],
            )
            if _vendor(conn)
            else None
        )
    )
    assert value(db, "SKU-1")["value"] == "0.00"
    assert value(db, "SKU-1")["quantity_on_hand"] == 0
    with db.read() as conn:
        assert list(conn.execute(sa.select(move.c.value)).scalars()) == [None]
    _ok(db, valued=False)


def _vendor(conn: sa.Connection) -> bool:
    from stockpilot.network.service import ensure_company

    ensure_company(conn, "VENDOR")
    return True


def test_value_at_a_past_date_sees_a_backdated_receipt_there_without_reposting(
    db: Database,
) -> None:
    build_world(db)
    receive_at(db, "SKU-1", 10, "5.00")
    past = datetime.now() - timedelta(days=10)
    receive_at(db, "SKU-1", 4, "6.00", effective_at=past)  # backdated
    move_out(db, "SKU-1", 10)  # today: the layers go in posting order (5.00 first)
    assert cogs(db, "SKU-1") == Decimal("50.00")
    day = (past + timedelta(days=1)).date()
    then = value(db, "SKU-1", at=day)
    assert (then["quantity_on_hand"], then["value"]) == (4, "24.00")
    assert value(db, "SKU-1", at=date.today() - timedelta(days=30))["value"] == "0.00"
    assert value(db, "SKU-1")["value"] == "24.00"
    _ok(db)


def test_verify_reports_value_drift_when_a_layer_is_tampered_with(db: Database) -> None:
    build_world(db)
    receive_at(db, "SKU-1", 10, "5.00")
    with db.transaction() as conn:
        conn.execute(cost_layer.update().values(value_remaining=cost_layer.c.value_remaining - 1))
    with db.read() as conn:
        report = verify(conn)
    assert not report.ok
    assert [(d.field, d.expected, d.actual) for d in report.value_drifts] == [
        ("layer_value", 49_999_999, 50_000_000)
    ]


def test_aging_buckets_open_layers_by_first_receipt_and_dead_stock_has_no_recent_issue(
    db: Database,
) -> None:
    from stockpilot.network.service import site_by_code
    from stockpilot.valuation import reports

    build_world(db)
    old = datetime.now() - timedelta(days=100)
    receive_at(db, "SKU-1", 10, "5.00", effective_at=old)
    receive_at(db, "SKU-1", 10, "7.00")
    receive_at(db, "LOT-1", 4, "2.00", lot="L1", effective_at=old)
    move_out(db, "SKU-1", 3)
    with db.read() as conn:
        flt = reports.Filters([site_by_code(conn, "WH1").id])
        aged = reports.aging(conn, flt, date.today())
        dead = reports.dead_stock(conn, flt, date.today(), 30)
    by_bucket = {b["age_days"]: (b["quantity"], b["value"]) for b in aged["buckets"]}
    assert by_bucket["0-30"] == (10, "70.00")
    assert by_bucket["91-180"] == (11, "43.00")  # 7 of SKU-1 at 5.00 and 4 of LOT-1 at 2.00
    assert by_bucket[">365"] == (0, "0.00")
    assert [(i["sku"], i["value"]) for i in dead["items"]] == [("LOT-1", "8.00")]
    assert dead["value"] == "8.00"


def test_journal_lines_balance_per_company_and_inventory_equals_the_value_report(
    db: Database,
) -> None:
    from stockpilot.valuation import journal, reports

    build_world(db)
    set_method(db, "SKU-2", "standard", "2.00")
    receive_at(db, "SKU-1", 10, "5.00")
    receive_at(db, "SKU-1", 10, "7.00")
    receive_at(db, "SKU-2", 5, "2.50", "B-01")
    move_out(db, "SKU-1", 15)
    move_out(db, "SKU-2", 1, "scrap", "B-01")
    transfer(db, "SKU-1", 2, leg="out")
    with db.read() as conn:
        lines = list(journal.journal(conn, reports.Filters(None), None, None))
        totals = journal.journal_totals(conn, reports.Filters(None), None, None)
    assert sum(ln.debit for ln in lines) == sum(ln.credit for ln in lines)
    net: dict[str, int] = {}
    for ln in lines:
        net[ln.account] = net.get(ln.account, 0) + ln.debit - ln.credit
    accounts = journal.DEFAULT_ACCOUNTS
    on_site = value(db, "SKU-1")["value"], value(db, "SKU-2")["value"]
    assert Decimal(net[accounts["inventory"]]) / 10**6 == sum(Decimal(v) for v in on_site)
    assert net[accounts["in_transit"]] == 14_000_000  # 2 × 7.00 on their way
    assert net[accounts["cogs"]] == 85_000_000
    assert net[accounts["scrap"]] == 2_000_000
    assert net[accounts["price_variance"]] == 2_500_000  # 5 × (2.50 − 2.00)
    assert net[accounts["grni"]] == -132_500_000  # paid: 50.00 + 70.00 + 12.50
    assert {a["company"] for a in totals["accounts"]} == {"OWN"}
