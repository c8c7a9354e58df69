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
            )
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
