"""`stockpilot events`, `order-terms`, `pilot` and `policy-type` write what the next planning
run reads; `stockpilot plan --segment-policies` and `simulate` on the database use it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import (
    item_location_policy,
    planning_event,
    planning_pilot,
    policy_override,
    supplier_order_terms,
)
from stockpilot.persistence.tables import item
from stockpilot.settings import get_settings
from tests.integration.test_planning_run import _network


@pytest.fixture
def cli(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_planning_setup_commands_store_what_the_run_uses(cli: CliRunner, db: Database) -> None:
    _network(db)
    steps = [
        ["events", "add", "promo", "--start", "2026-11-23", "--end", "2027-01-31",
         "--uplift-pct", "40", "--sku", "FAST"],
        ["order-terms", "set", "S1", "--min-order-value", "50", "--free-freight-value", "900"],
        ["pilot", "start", "C at 97", "--scope", "abc=C", "--service-level", "0.97"],
        ["policy-type", "SLOW", "BR1", "phase_out", "--reason", "COUNT"],
        ["plan", "--segment-policies"],
    ]  # fmt: skip
    for args in steps:
        result = cli.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(planning_event)).scalar() == 1
        terms = conn.execute(sa.select(supplier_order_terms)).one()
        assert (float(terms.min_order_value), float(terms.free_freight_value)) == (50.0, 900.0)
        assert conn.execute(sa.select(planning_pilot.c.status)).scalar() == "active"
        assert conn.execute(sa.select(policy_override.c.policy_type)).scalar() == "phase_out"
        uplifts = conn.execute(
            sa.select(item_location_policy.c.event_uplift)
            .join(item, item.c.id == item_location_policy.c.item_id)
            .where(item.c.sku == "FAST")
        ).scalars()
        assert [round(u, 6) for u in uplifts] == [0.4, 0.4]  # the event is at every site
        types: dict[str, int] = dict(
            conn.execute(
                sa.select(item_location_policy.c.policy_type, sa.func.count()).group_by(
                    item_location_policy.c.policy_type
                )
            ).all()
        )
    assert types.get("phase_out", 0) >= 1
    listed = cli.invoke(app, ["events", "list"])
    assert "promo" in listed.output
    assert cli.invoke(app, ["pilot", "end", "1"]).exit_code == 0
    assert cli.invoke(app, ["pilot", "end", "1"]).exit_code == 2  # ended already: refused


def test_setting_a_policy_type_keeps_the_item_locations_service_level_override(
    cli: CliRunner, db: Database
) -> None:
    from stockpilot.replenishment.actions import set_policy_override
    from stockpilot.shared.actor import SYSTEM

    _network(db)
    db.run(
        lambda c: set_policy_override(
            c, SYSTEM, "FAST", "HUB", service_level=0.99, criticality=None, reason="COUNT"
        )
    )
    result = cli.invoke(app, ["policy-type", "FAST", "HUB", "make_to_order", "--reason", "COUNT"])
    assert result.exit_code == 0, result.output
    with db.read() as conn:
        row = conn.execute(sa.select(policy_override)).one()
    assert (row.service_level, row.policy_type) == (0.99, "make_to_order")


def test_bad_input_to_the_setup_commands_names_the_field(cli: CliRunner, db: Database) -> None:
    _network(db)
    result = cli.invoke(app, ["events", "add", "x", "--start", "2026-13-01", "--end",
                              "2027-01-01", "--uplift-pct", "5"])  # fmt: skip
    assert result.exit_code == 2 and "--start" in result.output
    result = cli.invoke(app, ["policy-type", "SLOW", "BR1", "dropship", "--reason", "COUNT"])
    assert result.exit_code == 2 and "policy_type" in result.output
    result = cli.invoke(app, ["pilot", "start", "p", "--scope", "colour=red"])
    assert result.exit_code == 2 and "scope_field" in result.output
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(planning_pilot)).scalar() == 0


def test_simulate_on_the_database_prints_the_calibration_report(
    cli: CliRunner, db: Database
) -> None:
    _network(db)
    result = cli.invoke(app, ["simulate", "--holdout", "12", "--service-type", "fill_rate"])
    assert result.exit_code == 0, result.output
    assert "Calibration" in result.output and "exceeded_k1645" in result.output
