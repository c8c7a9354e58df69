"""The database planning run caps the order-up-to level by the capacity of the bins that hold
the item (location.capacity), and leaves an item uncapped where a bin has no capacity."""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import item_location_policy
from stockpilot.persistence.tables import item, location, site
from stockpilot.replenishment import queries
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM
from tests.integration.test_planning_run import AS_OF, _network
from tests.support.world import receive


def _levels(db: Database, run_id: int) -> dict[tuple[str, str], float]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(item.c.sku, site.c.code, item_location_policy.c.order_up_to)
            .join(item, item.c.id == item_location_policy.c.item_id)
            .join(site, site.c.id == item_location_policy.c.site_id)
            .where(item_location_policy.c.run_id == run_id)
        ).all()
    return {(r.sku, r.code): float(r.order_up_to) for r in rows}


def _set_capacity(db: Database, site_code: str, capacity: int | None) -> None:
    def work(conn: sa.Connection) -> None:
        site_id = conn.execute(sa.select(site.c.id).where(site.c.code == site_code)).scalar()
        conn.execute(
            sa.update(location)
            .where(location.c.site_id == site_id, location.c.code == "A-01")
            .values(capacity=capacity)
        )

    db.run(work)


def test_the_bins_holding_an_item_cap_its_order_up_to_level(db: Database) -> None:
    _network(db)
    uncapped = _levels(db, run_plan(db, as_of=AS_OF, actor=SYSTEM).run_id)
    assert uncapped[("FAST", "HUB")] > 150
    receive(db, "FAST", 10, "A-01", "HUB")  # FAST now lives in HUB's A-01
    _set_capacity(db, "HUB", 150)
    with db.read() as conn:
        caps = queries.storage_capacity(conn)
    assert caps.filter(caps["site"] == "HUB")["storage_capacity"].to_list() == [150.0]
    capped = _levels(db, run_plan(db, as_of=AS_OF, actor=SYSTEM).run_id)
    assert capped[("FAST", "HUB")] <= 150
    # The branch's bin has no capacity (and holds nothing): its level is not capped.
    assert capped[("FAST", "BR1")] == uncapped[("FAST", "BR1")]


def test_a_bin_without_capacity_leaves_the_item_uncapped(db: Database) -> None:
    _network(db)
    receive(db, "FAST", 10, "A-01", "HUB")
    _set_capacity(db, "HUB", None)
    with db.read() as conn:
        assert queries.storage_capacity(conn).height == 0
