"""Alternate sourcing and contingency buffers on small worked examples."""

from __future__ import annotations

import numpy as np
import polars as pl

from stockpilot.planning.sourcing import SourcingWeights, alternate_sources, contingency_buffers


def _primaries(actual: float | None = None) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "item": ["A", "B"],
            "supplier": ["P", "P"],
            "quoted_lead_time_days": [10.0, 10.0],
            "actual_lead_time_days": [actual, None],
        },
        schema_overrides={"actual_lead_time_days": pl.Float64},
    )


CANDIDATES = pl.DataFrame(
    {
        "item": ["A", "A", "A", "B"],
        "supplier": ["P", "CHEAP", "FAST", "P"],
        "unit_cost": [10.0, 10.0, 11.0, 5.0],
        "lead_time_days": [10.0, 40.0, 10.0, 10.0],
        "on_time_share": [1.0, 1.0, 0.9, 1.0],
    }
)


def test_a_disrupted_supplier_is_replaced_by_the_best_scored_other_one() -> None:
    # CHEAP: 1 + 4 + 0 = 5; FAST: 1.1 + 1 + 0.1 = 2.2 → FAST. B has no other supplier.
    found = alternate_sources(_primaries(), CANDIDATES, ["P"])
    rows = {r["item"]: r for r in found.iter_rows(named=True)}
    assert rows["A"]["alternate"] == "FAST"
    assert rows["A"]["score"] == 2.2
    assert rows["A"]["reason"] == "disrupted"
    assert rows["B"]["alternate"] is None


def test_when_cost_weighs_most_the_cheap_slow_supplier_wins() -> None:
    weights = SourcingWeights(cost_weight=10.0, lead_weight=0.1, reliability_weight=1.0)
    found = alternate_sources(_primaries(), CANDIDATES, ["P"], weights)
    assert found.filter(pl.col("item") == "A")["alternate"].to_list() == ["CHEAP"]


def test_a_drifting_lead_time_triggers_an_alternate_and_a_small_drift_does_not() -> None:
    drifted = alternate_sources(_primaries(actual=15.0), CANDIDATES)  # 50 % over the quote
    assert drifted["item"].to_list() == ["A"]
    assert drifted["reason"][0].startswith("lead time drifted: 15.0 days")
    assert alternate_sources(_primaries(actual=12.0), CANDIDATES).height == 0  # 20 %: fine


def test_a_contingency_buffer_covers_what_the_scenario_left_unserved_at_its_holding_cost() -> None:
    buffer, cost = contingency_buffers(np.array([7.2, 0.0, 30.0]), np.array([4.0, 4.0, 1.0]), 0.25)
    assert buffer.tolist() == [8.0, 0.0, 30.0]
    assert cost.tolist() == [8.0, 0.0, 7.5]
