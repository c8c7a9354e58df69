"""Warehouse-capacity scenario: receipts beyond the inbound lines or the storage room of a
period wait for the next one, and the fill rate shows what that costs."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from stockpilot.planning.simulation import Policy, Scenario, compare_scenarios, simulate
from stockpilot.replenishment.scenarios import ScenarioSpec


def _policy(n: int) -> Policy:
    # Order up to 10 every period, lead time 0: an order arrives the next period.
    return Policy(np.full(n, 9.0), np.full(n, 10.0), np.zeros(n, dtype=int), np.ones(n, dtype=int))


def test_one_inbound_line_a_period_makes_the_second_series_wait_every_other_period() -> None:
    # Each series sells its whole order-up-to level every period: a receipt that waits is a
    # period without stock.
    demand = np.full((2, 6), 10.0)
    base = simulate(demand, _policy(2))
    limited = simulate(demand, _policy(2), Scenario(inbound_lines_per_period=1))
    assert base["fill_rate"].to_list() == [1.0, 1.0]
    # Two series order every period but only one is received per period: stock runs short.
    assert limited["served"].sum() < base["served"].sum()


def test_no_room_in_the_warehouse_delays_receipts_until_stock_has_been_sold() -> None:
    demand = np.full((1, 6), 5.0)
    tight = simulate(demand, _policy(1), Scenario(storage_capacity=4.0))
    # Room for 4 units, 5 sold a period: every period after the first ends one unit short.
    assert tight["served"][0] < 30.0
    assert tight["average_on_hand"][0] <= 4.0


def test_the_capacity_scenario_sits_beside_the_baseline() -> None:
    demand = np.full((3, 8), 10.0)
    out = compare_scenarios(
        demand, _policy(3), [Scenario(name="1 line", inbound_lines_per_period=1)]
    )
    assert out["scenario"].to_list() == ["baseline", "1 line"]
    assert out["fill_rate_vs_baseline"][1] < 0


def test_a_capacity_scenario_must_name_a_limit() -> None:
    with pytest.raises(ValidationError, match="inbound_lines_per_period or storage_capacity"):
        ScenarioSpec(name="w", kind="warehouse_capacity")
    spec = ScenarioSpec(name="w", kind="warehouse_capacity", inbound_lines_per_period=40)
    assert spec.to_scenario().inbound_lines_per_period == 40
