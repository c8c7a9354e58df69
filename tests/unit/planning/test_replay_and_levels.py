"""Empirical protection levels, the exact (R, S) fill-rate level, the per-cycle service measure
and the rolling re-plan of the backtest."""

from __future__ import annotations

import numpy as np
import polars as pl

from stockpilot.planning.backtest import backtest_policies, build_replay
from stockpilot.planning.empirical import (
    empirical_cycle_level,
    empirical_fill_rate_level,
    empirical_loss,
    horizon_errors,
)
from stockpilot.planning.engine import PlanConfig
from stockpilot.planning.policy import rs_fill_rate_level_normal
from stockpilot.planning.simulation import Policy, simulate
from stockpilot.planning.stats import normal_loss


def test_horizon_errors_are_window_sums_minus_the_cumulative_forecast() -> None:
    y = np.array([[1.0, 2.0, 3.0, 4.0]])
    forecast = np.array([[np.nan, 4.0, 6.0, 8.0]])
    errors = horizon_errors(y, forecast, 2)
    # origin 0 has no forecast, origin 3 runs past the history
    np.testing.assert_allclose(errors, [[np.nan, 5.0 - 4.0, 7.0 - 6.0, np.nan]])


def test_empirical_cycle_level_is_the_smallest_level_covering_the_share_of_samples() -> None:
    samples = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, np.nan]])
    assert empirical_cycle_level(np.array([0.9]), samples).tolist() == [9.0]
    assert empirical_cycle_level(np.array([0.95]), samples).tolist() == [10.0]


def test_empirical_fill_rate_level_is_the_smallest_integer_meeting_the_shortage_bound() -> None:
    rng = np.random.default_rng(3)
    lead = rng.gamma(2.0, 10.0, (5, 400))
    protection = lead + rng.gamma(1.0, 10.0, (5, 400))
    beta, cycle = np.full(5, 0.95), np.full(5, 10.0)
    level = empirical_fill_rate_level(beta, protection, lead, cycle)

    def shortage(s: np.ndarray) -> np.ndarray:
        return empirical_loss(protection, s) - empirical_loss(lead, s)

    assert np.all(shortage(level) <= 0.05 * cycle + 1e-9)
    assert np.all(shortage(level - 1.0) > 0.05 * cycle)
    # a lot beyond one review's demand leaves stock over from the previous cycle: never more
    larger = empirical_fill_rate_level(beta, protection, lead, cycle, lot_excess=20.0)
    assert np.all(larger >= level)


def test_exact_rs_fill_rate_level_solves_the_shortage_equation() -> None:
    beta, mp, sp, ml, sl, q = 0.95, 300.0, 60.0, 200.0, 49.0, 100.0
    level = float(rs_fill_rate_level_normal(beta, mp, sp, ml, sl, q)[0])
    shortage = sp * normal_loss((level - mp) / sp) - sl * normal_loss((level - ml) / sl)
    assert abs(float(shortage) - (1 - beta) * q) < 1e-4


def test_exact_rs_fill_rate_level_delivers_its_fill_rate_in_a_replay() -> None:
    rng = np.random.default_rng(5)
    n, periods, d, sd, lead = 400, 300, 100.0, 30.0, 2
    demand = np.maximum(rng.normal(d, sd, (n, periods)), 0.0)
    mean_p, sd_p = d * (lead + 1), sd * np.sqrt(lead + 1)
    level = rs_fill_rate_level_normal(0.95, mean_p, sd_p, d * lead, sd * np.sqrt(lead), d)
    levels = np.full(n, float(level[0]))
    out = simulate(demand, Policy(levels, levels, np.full(n, lead), np.ones(n)), warmup=10)
    fill = float(out["served"].sum()) / float(out["demand"].sum())
    assert abs(fill - 0.95) < 0.005


def test_cycle_service_counts_replenishment_cycles_with_a_stockout() -> None:
    # lead 0 and review 1: every period is a cycle; only the second runs short (12 > 10)
    demand = np.array([[5.0, 12.0, 3.0, 0.0]])
    policy = Policy(np.array([10.0]), np.array([10.0]), np.array([0]), np.array([1]))
    out = simulate(demand, policy)
    assert out["cycle_service_level"][0] == 0.75
    assert out["stockout_periods"][0] == 1


def test_time_varying_levels_carry_stock_over_and_warmup_is_not_measured() -> None:
    demand = np.array([[5.0, 5.0, 5.0, 5.0]])
    constant = Policy(np.array([10.0]), np.array([10.0]), np.array([0]), np.array([1]))
    matrix = Policy(np.full((1, 4), 10.0), np.full((1, 4), 10.0), np.array([0]), np.array([1]))
    assert simulate(demand, constant).equals(simulate(demand, matrix))
    raised = Policy(
        np.array([[10.0, 10.0, 30.0, 30.0]]), np.array([[10.0, 10.0, 30.0, 30.0]]),
        np.array([0]), np.array([1]),
    )  # fmt: skip
    out = simulate(demand, raised, warmup=2)
    assert out["demand"][0] == 10.0
    # the order placed at period 2 lifts the stock to 30 for period 3: (5 + 25) / 2
    assert out["average_on_hand"][0] == 15.0


def _step_lines(n: int = 40, history: int = 104, holdout: int = 26) -> pl.DataFrame:
    rng = np.random.default_rng(9)
    rate = np.full((n, history + holdout), 10.0)
    rate[:, history + holdout // 2 :] = 30.0  # demand triples in the middle of the holdout
    y = rng.poisson(rate).astype(float)
    r, c = np.nonzero(y)
    return pl.DataFrame(
        {
            "item": np.char.add("I", r.astype(str)),
            "site": ["S"] * len(r),
            "date": (np.datetime64("2023-01-02") + c * 7).astype("datetime64[D]"),
            "quantity": y[r, c],
        }
    )


def test_rolling_replan_follows_a_step_change_in_demand_during_the_holdout() -> None:
    lines = _step_lines()
    config = PlanConfig(service_level=0.95, service_type="fill_rate")
    replay = build_replay(lines, None, None, config, holdout=26, replan_every=1)
    first = replay.warmup
    before = replay.order_up_to[:, first : first + 13].mean()
    after = replay.order_up_to[:, -4:].mean()
    assert after > 1.6 * before  # the forecast catches up with the new level
    rolling = backtest_policies(lines, None, None, config, holdout=26, replan_every=1)
    frozen = backtest_policies(lines, None, None, config, holdout=26, replan_every=None)
    assert rolling.by_class["fill_rate"][0] > frozen.by_class["fill_rate"][0] + 0.05


def test_a_replay_from_an_opening_stock_orders_no_moq_lot_it_does_not_need() -> None:
    # s = S = 0 with an MOQ of 500 against one unit a period: starting at S orders a whole lot
    # in the first period; starting mid-cycle the stock simply runs down.
    demand = np.ones((1, 20))
    policy = Policy(
        np.zeros(1), np.zeros(1), np.array([1]), np.array([1]), np.array([500.0]), np.ones(1)
    )
    at_s = simulate(demand, policy)
    opened = simulate(demand, policy, opening=np.array([250.0]))
    assert at_s["average_on_hand"][0] > 400.0
    assert opened["average_on_hand"][0] < 250.0
    assert opened["served"][0] == 20.0
