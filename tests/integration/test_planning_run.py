"""A planning run on the database: policies for every item-location, proposals that explain."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import ItemCreate, SupplierCreate
from stockpilot.network import service as network
from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import item_location_policy, proposal
from stockpilot.persistence.tables import demand_history, receipt_history
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM
from tests.support.world import receive

AS_OF = date(2026, 11, 23)


def _network(db: Database, weeks: int = 104) -> None:
    rng = np.random.default_rng(7)

    def work(conn: Connection) -> None:
        network.create_site(conn, SYSTEM, "HUB", kind="hub")
        network.create_site(conn, SYSTEM, "BR1", replenished_from="HUB")
        for code in ("HUB", "BR1"):
            network.create_location(conn, SYSTEM, code, "A-01", "storage")
        catalog.create_supplier(
            conn, SYSTEM, SupplierCreate(code="S1", name="Supplier", lead_time_days=21)
        )
        for sku, moq, pack in (("FAST", 100, 10), ("SLOW", 1, 1), ("NONE", 1, 1)):
            catalog.create_item(
                conn,
                SYSTEM,
                ItemCreate(sku=sku, moq=moq, pack_size=pack, unit_cost=Decimal(5), supplier="S1"),
            )
        ids: dict[str, int] = {s: i for s, i in conn.execute(sa.text("SELECT sku, id FROM item"))}
        sites: dict[str, int] = {
            c: i for c, i in conn.execute(sa.text("SELECT code, id FROM site"))
        }
        rows = []
        for w in range(weeks):
            day = AS_OF - timedelta(weeks=weeks - w)
            for site_code in ("HUB", "BR1"):
                rows.append((ids["FAST"], sites[site_code], day, int(rng.poisson(40))))
                if rng.random() < 0.15:
                    rows.append((ids["SLOW"], sites[site_code], day, int(rng.integers(1, 6))))
        conn.execute(
            demand_history.insert(),
            [
                {"item_id": i, "site_id": s, "requested_date": d, "quantity": q}
                for i, s, d, q in rows
                if q > 0
            ],
        )
        conn.execute(
            receipt_history.insert(),
            [
                {
                    "item_id": ids["FAST"],
                    "site_id": sites["HUB"],
                    "supplier_id": conn.execute(sa.text("SELECT id FROM supplier")).scalar(),
                    "order_date": AS_OF - timedelta(days=200 - 10 * k),
                    "receipt_date": AS_OF - timedelta(days=200 - 10 * k - 14 - k % 3),
                    "quantity": 400,
                }
                for k in range(12)
            ],
        )

    db.run(work)


def test_a_run_writes_one_policy_per_item_location_with_demand(db: Database) -> None:
    _network(db)
    summary = run_plan(db, as_of=AS_OF, actor=SYSTEM)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(item_location_policy).where(item_location_policy.c.run_id == summary.run_id)
        ).all()
    assert summary.item_locations == len(rows) == 4  # FAST and SLOW at two sites; NONE has none
    fast_hub = next(r for r in rows if r.forecast_per_period > 30 and r.lead_time_periods > 1)
    # Learned from receipts (14–16 days), not the quoted 21 days.
    assert 2.0 <= fast_hub.lead_time_periods <= 2.3
    assert fast_hub.reorder_point > fast_hub.safety_stock > 0


def test_empty_branch_is_replenished_from_the_hub_and_the_hub_buys(db: Database) -> None:
    _network(db)
    summary = run_plan(db, as_of=AS_OF, actor=SYSTEM)
    with db.read() as conn:
        rows = conn.execute(sa.select(proposal).where(proposal.c.run_id == summary.run_id)).all()
    kinds = {(r.kind, r.group_key.split(":")[0]) for r in rows}
    assert ("transfer", "TO") in kinds and ("purchase", "PO") in kinds
    purchase = next(r for r in rows if r.kind == "purchase" and r.quantity >= 100)
    assert purchase.quantity % 10 == 0
    assert purchase.due_date > AS_OF
    explanation = purchase.explanation
    if isinstance(explanation, str):
        import json

        explanation = json.loads(explanation)
    assert "reorder point" in purchase.trigger
    assert explanation["inputs"]["reorder_point"] > 0


def test_stock_on_hand_suppresses_proposals_and_reruns_supersede_old_ones(db: Database) -> None:
    _network(db)
    first = run_plan(db, as_of=AS_OF, actor=SYSTEM)
    for site in ("HUB", "BR1"):
        receive(db, "FAST", 5000, "A-01", site)
        receive(db, "SLOW", 500, "A-01", site)
    second = run_plan(db, as_of=AS_OF, actor=SYSTEM)
    with db.read() as conn:
        statuses: dict[int, int] = dict(
            conn.execute(
                sa.select(proposal.c.run_id, sa.func.count())
                .where(proposal.c.status == "proposed")
                .group_by(proposal.c.run_id)
            ).all()
        )
    assert first.proposals > 0
    assert second.proposals == 0
    assert statuses.get(first.run_id) is None
