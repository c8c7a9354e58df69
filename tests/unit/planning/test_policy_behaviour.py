"""Behaviour of rounding, capacity, lead-time fallback and the engine."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from stockpilot.planning.engine import PLAN_COLUMNS, PlanConfig, plan
from stockpilot.planning.leadtime import learn_lead_times
from stockpilot.planning.policy import cap_by_capacity, round_order_quantity


def test_order_quantity_is_raised_to_moq_and_rounded_up_to_pack_size() -> None:
    out = round_order_quantity(np.array([3.0, 13.0, 0.0, 24.0]), moq=10.0, pack_size=6.0)
    assert out.tolist() == [12.0, 18.0, 0.0, 24.0]


@given(
    quantity=st.floats(0.001, 1e6),
    moq=st.floats(0, 1e4),
    pack=st.integers(1, 500),
)
def test_rounded_order_quantity_is_a_pack_multiple_and_at_least_moq(
    quantity: float, moq: float, pack: int
) -> None:
    q = float(round_order_quantity(quantity, moq, float(pack)))
    assert q >= moq - 1e-6
    assert q >= quantity - 1e-6
    assert abs(q / pack - round(q / pack)) < 1e-9


def test_order_up_to_is_capped_by_storage_capacity_in_whole_packs() -> None:
    level, capped = cap_by_capacity(
        np.array([100.0, 40.0, 80.0]), np.array([50.0, 50.0, np.nan]), np.array([12.0, 12.0, 12.0])
    )
    assert level.tolist() == [48.0, 40.0, 80.0]
    assert capped.tolist() == [True, False, False]


def test_lead_time_falls_back_from_lane_to_supplier_to_master_data_to_default() -> None:
    keys = pl.DataFrame({"item": ["a", "b", "c", "d"], "site": ["S"] * 4})
    receipts = pl.DataFrame(
        {
            "item": ["a", "a", "a", "b"],
            "site": ["S"] * 4,
            "supplier": ["X"] * 4,
            "order_date": ["2024-01-01"] * 4,
            "receipt_date": ["2024-01-08", "2024-01-10", "2024-01-12", "2024-01-20"],
            "quantity": [1.0] * 4,
        }
    )
    items = pl.DataFrame({"item": ["a", "c"], "site": ["S", "S"], "lead_time_days": [8.0, 21.0]})
    out = learn_lead_times(keys, receipts, items, "week")
    assert out["lead_time_source"].to_list() == ["history", "supplier", "master_data", "default"]
    assert out["lead_time_days"][0] == 9.0
    assert out["on_time_share"][0] == 1 / 3  # only the 7-day receipt met the quoted 8 days
    assert out["lead_time_periods"][2] == 3.0


def _lines(y: np.ndarray) -> pl.DataFrame:
    r, c = np.nonzero(y)
    start = np.datetime64("2023-01-02")
    return pl.DataFrame(
        {
            "item": np.char.add("I", r.astype(str)),
            "site": ["S"] * len(r),
            "date": (start + c * 7).astype("datetime64[D]"),
            "quantity": y[r, c].astype(float),
        }
    )


def test_plan_returns_one_row_per_item_location_with_the_contract_columns() -> None:
    y = np.random.default_rng(2).poisson(10, (5, 60)).astype(float)
    items = pl.DataFrame({"item": ["I0"], "site": ["S"], "moq": [50.0], "pack_size": [12.0]})
    result = plan(_lines(y), None, items, PlanConfig())
    frame = result.policies
    assert frame.columns[: len(PLAN_COLUMNS)] == PLAN_COLUMNS
    assert frame.height == 5
    assert (frame["order_up_to"] >= frame["reorder_point"]).all()
    row0 = frame.filter(pl.col("item") == "I0").row(0, named=True)
    assert row0["order_quantity"] == 60.0
    assert row0["lead_time_source"] == "default"
    higher = plan(_lines(y), None, None, PlanConfig(service_level=0.99)).policies
    lower = plan(_lines(y), None, None, PlanConfig(service_level=0.80)).policies
    assert (higher["safety_stock"] > lower["safety_stock"]).all()
