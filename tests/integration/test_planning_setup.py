"""What a planner sets reaches the database run: a policy type per item-location, a known event,
a supplier's order-value terms and the pilot's challenger — each stated on the small network of
test_planning_run (FAST sells ~40 a week at HUB and BR1, SLOW is sporadic; supplier S1)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import item_location_policy, proposal
from stockpilot.persistence.tables import item, site
from stockpilot.replenishment import setup
from stockpilot.replenishment.actions import set_policy_override
from stockpilot.replenishment.replays import ReplayRequest, calibration_report, pilot_report
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import Conflict, ValidationFailed
from tests.integration.test_planning_run import AS_OF, _network


def _policies(db: Database, run_id: int) -> dict[tuple[str, str], sa.Row[tuple[object, ...]]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(item_location_policy, item.c.sku, site.c.code)
            .join(item, item.c.id == item_location_policy.c.item_id)
            .join(site, site.c.id == item_location_policy.c.site_id)
            .where(item_location_policy.c.run_id == run_id)
        ).all()
    return {(r.sku, r.code): r for r in rows}


def _purchases(db: Database, run_id: int) -> list[sa.Row[tuple[object, ...]]]:
    with db.read() as conn:
        return list(
            conn.execute(
                sa.select(proposal).where(
                    proposal.c.run_id == run_id, proposal.c.kind == "purchase"
                )
            ).all()
        )


def _run(db: Database, **kwargs: object) -> int:
    return run_plan(db, as_of=AS_OF, actor=SYSTEM, **kwargs).run_id  # type: ignore[arg-type]


def test_a_policy_type_set_on_one_item_location_decides_its_levels_in_the_run(
    db: Database,
) -> None:
    _network(db)
    db.run(
        lambda c: set_policy_override(
            c, SYSTEM, "FAST", "BR1", service_level=None, criticality=None, reason="COUNT",
            policy_type="make_to_order",
        )
    )  # fmt: skip
    policies = _policies(db, _run(db))
    made = policies[("FAST", "BR1")]
    # make-to-order: no stock, only a negative position (backorders) is bought
    assert (made.policy_type, made.reorder_point, made.order_up_to, made.safety_stock) == (
        "make_to_order", -1.0, 0.0, 0.0,
    )  # fmt: skip
    assert made.policy_reason == "override per item-location"
    hub = policies[("FAST", "HUB")]
    assert hub.policy_type == "stock" and hub.order_up_to > 0
    with pytest.raises(ValidationFailed) as err:
        db.run(
            lambda c: set_policy_override(
                c, SYSTEM, "FAST", "BR1", service_level=None, criticality=None,
                reason="COUNT", policy_type="dropship",
            )
        )  # fmt: skip
    assert err.value.field == "policy_type"


def test_an_event_doubles_the_protected_demand_of_its_item_and_site_only(db: Database) -> None:
    _network(db)
    before = _policies(db, _run(db))
    db.run(
        lambda c: setup.create_event(
            c, SYSTEM, name="spring promotion", start_date=AS_OF,
            end_date=AS_OF + timedelta(weeks=12), uplift_pct=100.0, sku="FAST", site_code="HUB",
        )
    )  # fmt: skip
    after = _policies(db, _run(db))
    hub0, hub1 = before[("FAST", "HUB")], after[("FAST", "HUB")]
    assert hub1.event_uplift == pytest.approx(1.0)
    # the order-up-to level protects twice the demand over L + R (plus a wider safety stock)
    cycle0 = hub0.order_up_to - hub0.safety_stock
    assert hub1.order_up_to - hub1.safety_stock == pytest.approx(2 * cycle0, rel=0.05)
    branch0, branch1 = before[("FAST", "BR1")], after[("FAST", "BR1")]
    assert branch1.event_uplift == 0.0 and branch1.order_up_to == branch0.order_up_to
    with pytest.raises(ValidationFailed):
        db.run(
            lambda c: setup.create_event(
                c, SYSTEM, name="backwards", start_date=AS_OF, end_date=AS_OF - timedelta(1),
                uplift_pct=10.0,
            )
        )  # fmt: skip


def test_a_purchase_group_is_raised_to_the_minimum_order_value_or_held_far_below_it(
    db: Database,
) -> None:
    _network(db)
    plain = _purchases(db, _run(db))
    value = sum(Decimal(r.quantity) * r.unit_cost for r in plain)
    assert value > 0
    # within 25 % of the minimum: the lines are raised (in whole packs) to reach it
    minimum = (value * Decimal("1.2")).quantize(Decimal(1))
    db.run(
        lambda c: setup.set_order_terms(
            c, SYSTEM, "S1", min_order_value=minimum, free_freight_value=None
        )
    )
    raised = _purchases(db, _run(db))
    assert sum(Decimal(r.quantity) * r.unit_cost for r in raised) >= minimum
    assert all("raised to the supplier's minimum order value" in r.trigger for r in raised)
    # far below the minimum: the group is held as it is, and says so
    db.run(
        lambda c: setup.set_order_terms(
            c, SYSTEM, "S1", min_order_value=value * 3, free_freight_value=None
        )
    )
    held = _purchases(db, _run(db))
    assert sorted(r.quantity for r in held) == sorted(r.quantity for r in plain)
    assert all("held: order value" in r.trigger for r in held)
    # no minimum, free freight 10 % above the value: topped up to the threshold
    free = (value * Decimal("1.1")).quantize(Decimal(1))
    db.run(
        lambda c: setup.set_order_terms(
            c, SYSTEM, "S1", min_order_value=None, free_freight_value=free
        )
    )
    topped = _purchases(db, _run(db))
    assert sum(Decimal(r.quantity) * r.unit_cost for r in topped) >= free
    assert all("raised to the free-freight threshold" in r.trigger for r in topped)


def test_the_active_pilot_plans_its_segment_with_the_challenger_and_is_replayed(
    db: Database,
) -> None:
    _network(db)
    champion = _policies(db, _run(db, service_level=0.9, service_type="fill_rate"))
    segment = champion[("FAST", "HUB")].abc
    pilot = db.run(
        lambda c: setup.create_pilot(
            c, SYSTEM, name="A at 99", scope_field="abc", scope_value=segment,
            service_level=0.99, segment_policies=False,
        )
    )  # fmt: skip
    with pytest.raises(Conflict):  # one pilot at a time
        db.run(
            lambda c: setup.create_pilot(
                c, SYSTEM, name="second", scope_field="abc", scope_value="C",
                service_level=0.95, segment_policies=False,
            )
        )  # fmt: skip
    trial = _policies(db, _run(db, service_level=0.9, service_type="fill_rate"))
    for key, row in trial.items():
        inside = row.abc == segment
        assert row.in_pilot is inside, key
        assert row.service_level == (0.99 if inside else 0.9), key
    assert trial[("FAST", "HUB")].safety_stock > champion[("FAST", "HUB")].safety_stock
    report = pilot_report(db, SYSTEM, pilot.id, ReplayRequest(holdout=12))
    groups = {(g["group"], g["arm"]): g for g in report.groups.to_dicts()}
    assert set(groups) == {("pilot", "champion"), ("pilot", "challenger"), ("rest", "champion")}
    inside = sum(1 for r in trial.values() if r.abc == segment)
    assert groups[("pilot", "challenger")]["series"] == inside
    # a higher target on the same history: at least as much fill, with more stock
    challenger, base = groups[("pilot", "challenger")], groups[("pilot", "champion")]
    assert challenger["fill_rate"] >= base["fill_rate"] - 1e-9
    assert challenger["average_on_hand"] > base["average_on_hand"]
    ended = db.run(lambda c: setup.end_pilot(c, SYSTEM, pilot.id))
    assert ended.status == "ended"
    after = _policies(db, _run(db, service_level=0.9, service_type="fill_rate"))
    assert not any(r.in_pilot for r in after.values())


def test_the_calibration_report_runs_on_the_database_history(db: Database) -> None:
    _network(db)
    table = calibration_report(db, SYSTEM, ReplayRequest(holdout=12))
    rows = {r["demand_class"]: r for r in table.to_dicts()}
    overall = rows["all"]
    assert overall["series"] == 4 and overall["protection_periods"] > 0
    assert overall["normal_k1645"] == pytest.approx(0.05, abs=1e-3)
    assert 0.0 <= overall["exceeded_k1645"] <= overall["exceeded_k1"] <= overall["exceeded_k0"]
    with pytest.raises(ValidationFailed) as err:
        calibration_report(db, SYSTEM, ReplayRequest(holdout=100))
    assert err.value.field == "holdout"
    # narrowed to one site: its two series only
    hub = calibration_report(db, SYSTEM, ReplayRequest(holdout=12, site="HUB"))
    assert hub.filter(hub["demand_class"] == "all")["series"].to_list() == [2]
    with pytest.raises(ValidationFailed) as err:
        calibration_report(db, SYSTEM, ReplayRequest(holdout=12, site="NOWHERE"))
    assert err.value.field == "site"


def test_a_pilot_scoped_to_an_item_family_plans_that_family_alone_with_the_challenger(
    db: Database,
) -> None:
    """FAST is in family "fasteners", every other item in none: with a pilot on that family
    at 99 %, the run plans FAST at every site at 99 % and everything else at the 90 % of the
    run — whatever their ABC class or demand class."""
    _network(db)
    db.run(
        lambda c: c.execute(sa.update(item).where(item.c.sku == "FAST").values(family="fasteners"))
    )
    db.run(
        lambda c: setup.create_pilot(
            c, SYSTEM, name="fasteners at 99", scope_field="family", scope_value="fasteners",
            service_level=0.99, segment_policies=False,
        )
    )  # fmt: skip
    trial = _policies(db, _run(db, service_level=0.9, service_type="fill_rate"))
    assert {key for key, row in trial.items() if row.in_pilot} == {
        key for key in trial if key[0] == "FAST"
    }
    assert any(key[0] == "FAST" for key in trial) and any(key[0] != "FAST" for key in trial)
    for key, row in trial.items():
        assert row.service_level == (0.99 if key[0] == "FAST" else 0.9), key
    with pytest.raises(ValidationFailed):
        db.run(
            lambda c: setup.create_pilot(
                c, SYSTEM, name="bad", scope_field="colour", scope_value="red",
                service_level=0.95, segment_policies=False,
            )
        )  # fmt: skip


def test_an_event_for_a_family_raises_every_item_of_that_family_and_no_other(
    db: Database,
) -> None:
    """FAST is in family "fasteners": a 50 % promotion on the family at the hub raises FAST's
    protected demand there by half, and leaves the other items, and FAST at the branch, alone."""
    _network(db)
    db.run(
        lambda c: c.execute(sa.update(item).where(item.c.sku == "FAST").values(family="fasteners"))
    )
    before = _policies(db, _run(db))
    event = db.run(
        lambda c: setup.create_event(
            c, SYSTEM, name="fastener week", start_date=AS_OF,
            end_date=AS_OF + timedelta(weeks=12), uplift_pct=50.0, family="fasteners",
            site_code="HUB",
        )
    )  # fmt: skip
    assert event.family == "fasteners" and event.sku is None
    after = _policies(db, _run(db))
    for key, row in after.items():
        raised = key == ("FAST", "HUB")
        assert row.event_uplift == pytest.approx(0.5 if raised else 0.0), key
        if not raised:
            assert row.order_up_to == before[key].order_up_to, key
    hub0, hub1 = before[("FAST", "HUB")], after[("FAST", "HUB")]
    cycle0 = hub0.order_up_to - hub0.safety_stock
    assert hub1.order_up_to - hub1.safety_stock == pytest.approx(1.5 * cycle0, rel=0.05)
    with pytest.raises(ValidationFailed) as refused:
        db.run(
            lambda c: setup.create_event(
                c, SYSTEM, name="both", start_date=AS_OF, end_date=AS_OF, uplift_pct=5.0,
                sku="FAST", family="fasteners",
            )
        )  # fmt: skip
    assert refused.value.field == "family"
