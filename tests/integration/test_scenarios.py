"""Scenarios replay held-out demand against planned policies under what-ifs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import scenario
from stockpilot.replenishment.scenarios import ScenarioRequest, run_scenarios
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import ValidationFailed
from tests.integration.test_planning_run import _network


def test_disruption_and_spike_lower_fill_rate_against_the_baseline(db: Database) -> None:
    _network(db)
    request = ScenarioRequest.model_validate(
        {
            "name": "what if",
            "holdout": 26,
            "scenarios": [
                {"name": "supplier out 8 weeks", "kind": "supplier_disruption", "length": 8},
                {
                    "name": "demand +80%",
                    "kind": "demand_spike",
                    "start": 2,
                    "length": 10,
                    "demand_change_pct": 80,
                },
                {"name": "lead time x3", "kind": "lead_time_delay", "lead_time_factor": 3},
            ],
        }
    )
    body = run_scenarios(db, request, actor=SYSTEM)
    rows = {r.scenario: r for r in body.results}
    base = rows["baseline"].fill_rate
    assert base > 0.8
    for name in ("supplier out 8 weeks", "demand +80%", "lead time x3"):
        assert rows[name].fill_rate < base
        assert rows[name].fill_rate_vs_baseline < 0
        # the contingency stock that would have kept the baseline's service, with its cost
        assert rows[name].contingency_units > 0 and rows[name].contingency_holding_cost > 0
        listed = [b for b in body.contingency if b.scenario == name]
        assert listed and all(b.sku in ("FAST", "SLOW") for b in listed)
        # every buffer of the scenario is listed here (a small network) and priced at
        # buffer × unit cost (5) × holding rate (0.25)
        assert sum(b.buffer for b in listed) == rows[name].contingency_units
        assert all(b.holding_cost == pytest.approx(b.buffer * 5 * 0.25) for b in listed)
    assert rows["baseline"].contingency_units == 0
    with db.read() as conn:
        stored = conn.execute(sa.select(scenario.c.result)).scalar_one()
    assert stored["results"][0]["scenario"] == "baseline"


def test_unknown_site_is_refused_naming_the_field(db: Database) -> None:
    _network(db)
    request = ScenarioRequest.model_validate(
        {"name": "x", "site": "NOPE", "scenarios": [{"name": "a", "kind": "demand_spike"}]}
    )
    with pytest.raises(ValidationFailed) as err:
        run_scenarios(db, request, actor=SYSTEM)
    assert err.value.field == "site"
