"""Segment policies: each default rule on a small worked example, the override, and the levels
the engine then states (from the CSV contract through the CLI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import typer
from typer.testing import CliRunner

from stockpilot.cli.plan import register
from stockpilot.planning.segment_policy import (
    SegmentPolicies,
    apply_segment_policies,
    assign_segment_policies,
)


def _assign(demand: np.ndarray, **given: np.ndarray) -> SegmentPolicies:
    n = demand.shape[0]
    args = {
        "abc": np.array(["C"] * n),
        "demand_class": np.array(["smooth"] * n),
        "unit_cost": np.ones(n),
        "lead_time_periods": np.ones(n),
        "critical": np.zeros(n, dtype=bool),
        "is_branch": np.zeros(n, dtype=bool),
    }
    args.update(given)
    return assign_segment_policies(demand, periods_per_year=52, **args)  # type: ignore[arg-type]


def test_a_dying_c_item_is_phased_out_and_a_steady_one_is_stocked() -> None:
    # 40 weeks at 5, then 13 weeks at 0.5 (a tenth of the earlier rate) against a steady item.
    dying = np.array([5.0] * 40 + [0.5] * 13)
    steady = np.full(53, 5.0)
    policies = _assign(np.vstack([dying, steady]))
    assert policies.policy_type.tolist() == ["phase_out", "stock"]
    assert "20%" in policies.reason[0]


def test_a_dying_a_item_keeps_its_stock_policy() -> None:
    dying = np.array([[5.0] * 40 + [0.0] * 13])
    assert _assign(dying, abc=np.array(["A"])).policy_type.tolist() == ["stock"]


def test_rare_valuable_demand_with_a_short_lead_time_is_made_to_order() -> None:
    # Three demands a year on two item-locations; the valuable one (top 20 % of unit value) with
    # a one-period lead time is made to order, the cheap one and the long-lead one are stocked.
    rare = np.zeros(52)
    rare[[5, 20, 40]] = 7.0
    demand = np.vstack([rare] * 3 + [np.full(52, 1.0)] * 7)
    cost = np.array([900.0, 1.0, 900.0] + [1.0] * 7)
    lead = np.array([1.0, 1.0, 6.0] + [1.0] * 7)
    classes = np.array(["lumpy"] * 3 + ["smooth"] * 7)
    policies = _assign(
        demand,
        unit_cost=cost,
        lead_time_periods=lead,
        demand_class=classes,
        abc=np.array(["B"] * 10),
    )
    assert policies.policy_type[:3].tolist() == ["make_to_order", "stock", "stock"]


def test_a_slow_c_item_at_a_branch_ships_from_the_hub() -> None:
    slow = np.where(np.arange(52) % 4 == 0, 1.0, 0.0)  # 0.25 a week
    policies = _assign(np.vstack([slow, slow]), is_branch=np.array([True, False]))
    assert policies.policy_type.tolist() == ["transfer_fulfilled", "stock"]


def test_critical_items_are_always_stocked_and_an_override_wins_over_every_rule() -> None:
    dying = np.array([5.0] * 40 + [0.0] * 13)
    policies = assign_segment_policies(
        np.vstack([dying, dying, np.full(53, 5.0)]),
        np.array(["C", "C", "A"]),
        np.array(["smooth"] * 3),
        np.ones(3),
        np.ones(3),
        np.array([True, False, False]),
        np.zeros(3, dtype=bool),
        52,
        override=np.array(["", "stock", "make_to_order"]),
    )
    assert policies.policy_type.tolist() == ["stock", "stock", "make_to_order"]
    assert policies.reason.tolist()[1:] == ["override per item-location"] * 2


def test_items_without_stock_buy_exactly_what_was_ordered_and_phase_out_flags_its_stock() -> None:
    policies = SegmentPolicies(
        np.array(["stock", "make_to_order", "transfer_fulfilled", "phase_out"]), np.array([""] * 4)
    )
    s, up, ss, excess = apply_segment_policies(
        policies, np.full(4, 10.0), np.full(4, 20.0), np.full(4, 3.0)
    )
    assert s.tolist() == [10.0, -1.0, -1.0, -1.0]
    assert up.tolist() == [20.0, 0.0, 0.0, 0.0]
    assert ss.tolist() == [3.0, 0.0, 0.0, 0.0]
    assert excess.tolist() == [False, False, False, True]


def test_plan_from_csv_applies_a_policy_type_override_and_the_default_rules(tmp_path: Path) -> None:
    rows = ["item,site,date,quantity"]
    for week in range(60):
        day = np.datetime64("2024-01-01") + np.timedelta64(7 * week, "D")
        rows.append(f"KEEP,S1,{day},{10 + week % 3}")
        rows.append(f"MTO,S1,{day},{8 + week % 2}")
        if week < 40:
            rows.append(f"DYING,S1,{day},1")
    (tmp_path / "demand.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "items.csv").write_text(
        "item,site,unit_cost,policy_type\nKEEP,S1,100,\nMTO,S1,100,make_to_order\nDYING,S1,1,\n"
    )
    app = typer.Typer()
    register(app)
    out = tmp_path / "policies.csv"
    args = ["plan", "--from-csv", str(tmp_path), "--out", str(out), "--segment-policies"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    policies = {r["item"]: r for r in pl.read_csv(out).iter_rows(named=True)}
    assert policies["MTO"]["policy_type"] == "make_to_order"
    assert (policies["MTO"]["reorder_point"], policies["MTO"]["order_up_to"]) == (-1.0, 0.0)
    assert policies["DYING"]["policy_type"] == "phase_out"
    assert policies["DYING"]["excess_flag"] is True
    assert policies["KEEP"]["policy_type"] == "stock"
    assert policies["KEEP"]["reorder_point"] > 0


def test_an_unknown_policy_type_is_refused_naming_row_and_column(tmp_path: Path) -> None:
    (tmp_path / "demand.csv").write_text("item,site,date,quantity\nA,S1,2024-01-01,3\n")
    (tmp_path / "items.csv").write_text("item,site,policy_type\nA,S1,dropship\n")
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["plan", "--from-csv", str(tmp_path)])
    assert result.exit_code == 2
    assert "data row 1" in result.output and "policy_type" in result.output
