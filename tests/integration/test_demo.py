"""The demo distributor: it loads, the ledger balances, and planning finds every case in it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa

from stockpilot.demo import PATTERNS, build_demo
from stockpilot.demo.catalogue import make_items
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import (
    balance,
    demand_history,
    item,
    item_uom,
    location,
    receipt_history,
    site,
    supplier,
)
from stockpilot.shared.errors import Conflict

TODAY = date(2025, 3, 12)


def _weekly(db: Database) -> np.ndarray:
    """Demand per item-site (rows) and week (columns), from the stored order lines."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(
                demand_history.c.item_id,
                demand_history.c.site_id,
                demand_history.c.requested_date,
                demand_history.c.quantity,
            ).where(demand_history.c.source == "demo")
        ).all()
    keys = sorted({(r.item_id, r.site_id) for r in rows})
    index = {k: i for i, k in enumerate(keys)}
    first = min(r.requested_date for r in rows)
    matrix = np.zeros((len(keys), 104))
    for r in rows:
        matrix[index[(r.item_id, r.site_id)], (r.requested_date - first).days // 7] += r.quantity
    return matrix


def test_a_small_demo_loads_with_a_balanced_ledger_and_an_admin_token(db: Database) -> None:
    result = build_demo(db, skus=60, seed=7, today=TODAY)
    assert result.admin_token.startswith("sp_")
    assert result.counts["items"] == 60 and result.counts["sites"] == 4
    with db.read() as conn:
        report = verify(conn)
        on_hand = conn.execute(
            sa.select(sa.func.sum(balance.c.quantity_on_hand)).where(~balance.c.is_virtual)
        ).scalar_one()
        cases = conn.execute(
            sa.select(sa.func.count()).select_from(item_uom).where(item_uom.c.uom == "CS")
        ).scalar_one()
        lot_items = conn.execute(
            sa.select(sa.func.count()).where(item.c.lot_tracked, item.c.shelf_life_days > 0)
        ).scalar_one()
    assert report.ok and report.moves_checked > 0
    assert on_hand > 0 and cases > 0 and lot_items > 0


def test_every_demand_pattern_is_present_and_recognisable_in_the_history(db: Database) -> None:
    result = build_demo(db, skus=120, seed=11, today=TODAY)
    assert set(result.patterns) == set(PATTERNS) and min(result.patterns.values()) > 0
    weekly = _weekly(db)
    nonzero = weekly > 0
    adi = weekly.shape[1] / np.maximum(nonzero.sum(axis=1), 1)
    sizes = np.where(nonzero, weekly, np.nan)
    cv2 = (np.nanstd(sizes, axis=1) / np.nanmean(sizes, axis=1)) ** 2
    # Syntetos-Boylan classes: ADI 1.32 and CV² 0.49 split the four quadrants.
    assert ((adi < 1.32) & (cv2 < 0.49)).any(), "smooth"
    assert ((adi >= 1.32) & (cv2 < 0.49)).any(), "intermittent"
    assert ((adi >= 1.32) & (cv2 >= 0.49)).any(), "lumpy"
    died = (weekly[:, :52].sum(axis=1) > 50) & (weekly[:, -12:].sum(axis=1) == 0)
    assert died.any(), "items that die out"


def test_every_site_has_dock_staging_pick_and_reserve_bins_in_walk_order(db: Database) -> None:
    build_demo(db, skus=60, seed=7, today=TODAY)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(site.c.code, site.c.kind, location.c.kind, location.c.walk_sequence)
            .join(location, location.c.site_id == site.c.id)
            .where(~location.c.is_virtual)
        ).all()
        hazard = conn.execute(
            sa.select(sa.func.count()).where(location.c.hazard_class.is_not(None))
        ).scalar_one()
    kinds: dict[str, set[str]] = {code: set() for code, *_ in rows}
    for code, _, kind, _ in rows:
        kinds[code].add(kind)
    assert sorted(kinds) == ["BR1", "BR2", "BR3", "HUB"]
    assert all(k >= {"dock", "staging", "pick", "bulk", "storage"} for k in kinds.values())
    assert all(seq is not None for *_, seq in rows)
    assert {kind for _, kind, *_ in rows} == {"hub", "branch"}
    assert hazard > 0


def test_receipt_lead_times_follow_each_supplier_distribution(db: Database) -> None:
    build_demo(db, skus=300, seed=3, today=TODAY)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(
                supplier.c.code,
                supplier.c.lead_time_days,
                receipt_history.c.order_date,
                receipt_history.c.receipt_date,
            ).join(supplier)
        ).all()
        hubs = conn.execute(sa.select(receipt_history.c.site_id).distinct()).scalars().all()
    assert len(rows) > 100 and len(hubs) == 1
    by_supplier: dict[str, list[int]] = {}
    for code, _, ordered, received in rows:
        by_supplier.setdefault(code, []).append((received - ordered).days)
    means = {code: mean for code, mean, *_ in rows}
    for code, leads in by_supplier.items():
        if len(leads) >= 40:
            assert np.mean(leads) == pytest.approx(means[code], rel=0.25, abs=2)


def test_the_same_seed_draws_the_same_catalogue() -> None:
    first = make_items(50, 5, np.random.default_rng(5))
    again = make_items(50, 5, np.random.default_rng(5))
    assert first.rows == again.rows and first.units == again.units


def test_the_demo_refuses_a_database_that_already_has_items(db: Database) -> None:
    build_demo(db, skus=20, sites=2, seed=1, today=TODAY)
    with pytest.raises(Conflict):
        build_demo(db, skus=20, sites=2, seed=1, today=TODAY)


def test_the_demo_warehouse_opens_with_work_waiting_at_every_site(db: Database) -> None:
    from stockpilot.inbound.scan import is_valid_gtin, is_valid_sscc
    from stockpilot.persistence.tables import customer, sales_order
    from stockpilot.persistence.warehouse_tables import (
        asn,
        asn_line,
        item_gtin,
        pick_face,
        purchase_order,
        purchase_order_line,
        route,
        task,
    )

    result = build_demo(db, skus=300, seed=5, today=TODAY)
    with db.read() as conn:
        codes = dict(conn.execute(sa.select(site.c.id, site.c.code)).all())
        routes = conn.execute(sa.select(route.c.site_id, route.c.cutoff_time)).all()
        faces = conn.execute(
            sa.select(location.c.site_id, location.c.kind, pick_face).join(
                location, location.c.id == pick_face.c.location_id
            )
        ).all()
        orders = conn.execute(
            sa.select(purchase_order.c.site_id, purchase_order.c.status, purchase_order.c.id)
        ).all()
        due = conn.execute(sa.select(purchase_order_line.c.due_date)).scalars().all()
        notice = conn.execute(sa.select(asn)).one()
        pallets = conn.execute(sa.select(asn_line.c.sscc).distinct()).scalars().all()
        gtins = conn.execute(sa.select(item_gtin.c.gtin)).scalars().all()
        terms = conn.execute(
            sa.select(customer.c.ship_complete, customer.c.min_shelf_life_days)
        ).all()
        sales = conn.execute(
            sa.select(
                sales_order.c.site_id,
                sales_order.c.status,
                sales_order.c.route_id,
                sales_order.c.promised_date,
                sales_order.c.channel,
                sales_order.c.priority,
            )
        ).all()
        putaways = conn.execute(
            sa.select(sa.func.count()).where(task.c.type == "putaway", task.c.status == "open")
        ).scalar_one()
        assert verify(conn).ok
    assert {codes[s] for s, _ in routes} == set(codes.values())
    assert all(cutoff and len(cutoff) == 5 for _, cutoff in routes)
    assert {codes[f.site_id] for f in faces} == set(codes.values())
    assert all(f.kind == "pick" and 0 < f.min_quantity < f.max_quantity for f in faces)
    statuses = {(codes[s], status) for s, status, _ in orders}
    assert {("HUB", "confirmed"), ("HUB", "partially_received")} <= statuses
    assert {code for code, _ in statuses} == set(codes.values())
    assert all(d is not None for d in due) and putaways > 0
    po_status = {i: status for _, status, i in orders}
    assert notice.status == "open" and codes[notice.site_id] == "HUB"
    assert len(pallets) == 2 and all(is_valid_sscc(code) for code in pallets)
    assert "confirmed" in po_status.values()
    assert 0 < len(gtins) < 300 and all(is_valid_gtin(g) for g in gtins)
    assert any(complete for complete, _ in terms) and any(days for _, days in terms)
    assert {codes[s.site_id] for s in sales} == set(codes.values())
    assert all(s.status == "open" and s.route_id and s.promised_date for s in sales)
    assert len({s.channel for s in sales}) > 1 and any(s.priority for s in sales)
    assert result.counts["sales_orders"] == len(sales) and result.counts["asns"] == 1


def test_the_demo_asn_pallet_is_received_by_its_sscc_and_an_open_order_allocates(
    db: Database,
) -> None:
    from stockpilot.inbound.receiving import receive_goods
    from stockpilot.inbound.schemas import ReceiptCreate
    from stockpilot.outbound.sales_orders import allocate_order
    from stockpilot.persistence.tables import sales_order
    from stockpilot.persistence.warehouse_tables import asn_line
    from stockpilot.shared.actor import SYSTEM

    build_demo(db, skus=120, seed=9, today=TODAY)
    with db.read() as conn:
        pallet = conn.execute(sa.select(sa.func.min(asn_line.c.sscc))).scalar_one()
        order_id = conn.execute(sa.select(sa.func.min(sales_order.c.id))).scalar_one()
    receipt = db.run(
        lambda conn: receive_goods(
            conn, SYSTEM, ReceiptCreate(site="HUB", sscc=pallet), max_lines=100
        )
    )
    assert receipt["lines"] and {ln["sscc"] for ln in receipt["lines"]} == {pallet}
    assert receipt["purchase_order_status"] == "partially_received"
    allocated = db.run(lambda conn: allocate_order(conn, SYSTEM, order_id))
    assert allocated and all(a.quantity_allocated >= 0 for a in allocated)
    with db.read() as conn:
        assert verify(conn).ok


def test_the_demo_hub_has_one_transfer_in_transit_to_a_branch_and_one_to_ship(
    db: Database,
) -> None:
    from stockpilot.shared.actor import SYSTEM
    from stockpilot.transfers import service as transfers
    from stockpilot.transfers.schemas import TransferReceive

    result = build_demo(db, skus=300, seed=5, today=TODAY)
    assert result.counts["transfer_orders"] == 2
    with db.read() as conn:
        bodies = transfers.list_transfers(conn, SYSTEM, after_id=None, limit=10)
    # Shipped from what the hub has free (a line it cannot fill yet waits at the hub).
    assert bodies[0]["status"] in ("shipped", "partially_shipped")
    assert bodies[1]["status"] == "confirmed"
    assert {(b["from_site"], b["to_site"]) for b in bodies} == {("HUB", bodies[0]["to_site"])}
    in_transit = sum(ln["quantity_in_transit"] for ln in bodies[0]["lines"])
    assert in_transit == result.counts["transfer_units_in_transit"] > 0
    # The branch receives it, with putaway tasks; the ledger stays balanced.
    received = db.run(
        lambda c: transfers.receive_transfer(
            c, SYSTEM, bodies[0]["id"], TransferReceive(), max_lines=100
        )
    )
    assert received["receipts"]
    assert sum(ln["quantity_in_transit"] for ln in received["lines"]) == 0
    with db.read() as conn:
        assert verify(conn).ok
