"""Policy formulas against reference tables computed by stockpyl / SciPy (1e-6 relative)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from stockpilot.planning import policy as pol
from stockpilot.planning import policy_discrete as disc
from stockpilot.planning import stats
from stockpilot.planning.lotsizing import wagner_whitin
from tests.unit.planning.conftest import read_reference_table

REL = 1e-6


def close(expected: float) -> object:
    return pytest.approx(expected, rel=REL, abs=1e-9)


def col(rows: list[dict[str, str]], name: str) -> np.ndarray:
    return np.array([float(r[name]) if r[name] != "" else np.nan for r in rows])


def test_normal_loss_functions_match_reference_table() -> None:
    rows = read_reference_table("normal_loss.csv")
    z = col(rows, "z")
    np.testing.assert_allclose(stats.normal_loss(z), col(rows, "G1_scipy"), rtol=REL)
    np.testing.assert_allclose(stats.normal_loss(z), col(rows, "G1_stockpyl"), rtol=REL)
    np.testing.assert_allclose(
        stats.normal_loss_complement(z), col(rows, "G1_complement"), rtol=REL
    )
    np.testing.assert_allclose(stats.normal_second_order_loss(z), col(rows, "G2_scipy"), rtol=REL)


def test_safety_stock_matches_reference_table() -> None:
    rows = read_reference_table("safety_stock.csv")
    d, sd = col(rows, "demand_mean_per_period"), col(rows, "demand_sd_per_period")
    lt, lt_sd, r = (
        col(rows, "lead_time_mean"),
        col(rows, "lead_time_sd"),
        col(rows, "review_period"),
    )
    csl = col(rows, "csl")
    np.testing.assert_allclose(stats.normal_ppf(csl), col(rows, "z"), rtol=REL)
    np.testing.assert_allclose(
        pol.protection_sigma(sd, d, lt, lt_sd, r), col(rows, "sigma_protection"), rtol=REL
    )
    np.testing.assert_allclose(
        pol.safety_stock(csl, d, sd, lt, 0.0, r), col(rows, "ss_demand_only"), rtol=REL
    )
    ss = pol.safety_stock(csl, d, sd, lt, lt_sd, r)
    np.testing.assert_allclose(ss, col(rows, "ss_combined"), rtol=REL)
    level = d * (lt + r) + ss
    expected = np.where(r == 0, col(rows, "reorder_point_or_min"), col(rows, "order_up_to_S"))
    np.testing.assert_allclose(level, expected, rtol=REL)


def test_fill_rate_safety_factor_matches_reference_table() -> None:
    rows = read_reference_table("fill_rate_ss.csv")
    for row in rows:
        beta, d, sd = (
            float(row["target_fill_rate"]),
            float(row["demand_rate"]),
            float(row["demand_sd"]),
        )
        lead, q = float(row["lead_time"]), float(row["Q"])
        # periodic (R, S): Q = d·R and the protection interval is L + R
        horizon = lead if row["model"] == "rQ_continuous" else lead + q / d
        mu, sigma = d * horizon, sd * np.sqrt(horizon)
        assert mu == close(float(row["ltd_mean"]))
        assert sigma == close(float(row["ltd_sd"]))
        assert (1 - beta) * q / sigma == close(float(row["G_target"]))
        k_approx = float(pol.fill_rate_safety_factor(beta, q, sigma, exact=False))
        assert k_approx == close(float(row["k_approx"]))
        assert k_approx * sigma == close(float(row["ss_approx"]))
        assert mu + k_approx * sigma == close(float(row["r_approx"]))
        if row["k_exact"]:
            k_exact = float(pol.fill_rate_safety_factor(beta, q, sigma, exact=True))
            assert k_exact == close(float(row["k_exact"]))
            assert k_exact * sigma == close(float(row["ss_exact"]))
            assert mu + k_exact * sigma == close(float(row["r_exact"]))
            fill = float(pol.fill_rate_with_safety_factor(k_exact, q, sigma))
            assert fill == close(float(row["check_fill_rate_exact"]))
            assert float(stats.normal_cdf(k_exact)) == close(float(row["cycle_service_at_r_exact"]))


def test_base_stock_normal_matches_reference_table() -> None:
    rows = read_reference_table("basestock_normal.csv")
    level, ss, cost = pol.base_stock_normal(
        col(rows, "demand_mean_per_period"),
        col(rows, "demand_sd_per_period"),
        col(rows, "lead_time_periods"),
        col(rows, "holding_cost"),
        col(rows, "stockout_cost"),
    )
    np.testing.assert_allclose(level, col(rows, "base_stock_opt"), rtol=REL)
    np.testing.assert_allclose(ss, col(rows, "safety_stock"), rtol=REL, atol=1e-9)
    np.testing.assert_allclose(cost, col(rows, "expected_cost"), rtol=REL)


def test_base_stock_poisson_matches_reference_table() -> None:
    rows = read_reference_table("basestock_poisson.csv")
    level, cost, service = disc.base_stock_poisson(
        col(rows, "demand_mean_per_period"),
        col(rows, "lead_time_periods"),
        col(rows, "holding_cost"),
        col(rows, "stockout_cost"),
    )
    np.testing.assert_array_equal(level, col(rows, "base_stock_opt"))
    np.testing.assert_allclose(cost, col(rows, "expected_cost"), rtol=REL)
    np.testing.assert_allclose(service, col(rows, "cycle_service_at_S"), rtol=REL)


RQ_METHODS = {
    "r_q_eil_approximation": pol.rq_eil_approximation,
    "r_q_eoqb_approximation": pol.rq_eoqb_approximation,
    "r_q_eoqss_approximation": pol.rq_eoqss_approximation,
    "r_q_loss_function_approximation": pol.rq_loss_function_approximation,
}


def test_rq_normal_heuristics_and_measures_match_reference_table() -> None:
    rows = read_reference_table("rq_normal.csv")
    for row in rows:
        args = [
            float(row[c])
            for c in (
                "holding_cost",
                "stockout_cost",
                "fixed_cost",
                "demand_rate",
                "demand_sd_per_unit_time",
                "lead_time",
            )
        ]
        inputs = pol.RQInputs(*args)
        result = RQ_METHODS[row["method"]](inputs)
        r, q = float(result.reorder_point), float(result.order_quantity)
        assert r == close(float(row["r"])), row["method"]
        assert q == close(float(row["Q"])), row["method"]
        mu, sigma = float(row["ltd_mean"]), float(row["ltd_sd"])
        assert float(pol.rq_cost_normal(r, q, inputs)) == close(float(row["exact_cost"]))
        assert float(stats.normal_cdf((r - mu) / sigma)) == close(float(row["type1_cycle_service"]))
        assert float(pol.rq_fill_rate(r, q, mu, sigma)) == close(float(row["fill_rate_exact"]))
        approx = float(pol.rq_fill_rate(r, q, mu, sigma, exact=False))
        assert approx == close(float(row["fill_rate_approx"]))
        backorders = float(pol.rq_expected_backorders(r, q, mu, sigma))
        assert backorders == pytest.approx(float(row["expected_backorders"]), rel=1e-5, abs=1e-9)


def test_rq_poisson_exact_matches_federgruen_zheng_reference_table() -> None:
    for row in read_reference_table("rq_poisson_exact.csv"):
        policy = disc.rq_poisson_exact(
            disc.RQPoissonInputs(
                holding_cost=float(row["holding_cost"]),
                stockout_cost=float(row["stockout_cost"]),
                fixed_cost=float(row["fixed_cost"]),
                demand_mean=float(row["demand_rate"]),
                lead_time=float(row["lead_time"]),
            )
        )
        assert (policy.reorder_point, policy.order_up_to_or_quantity) == (
            int(row["r_opt"]),
            int(row["Q_opt"]),
        )
        assert policy.cost == close(float(row["cost_opt"]))


def test_ss_poisson_exact_matches_zheng_federgruen_reference_table() -> None:
    for row in read_reference_table("ss_poisson_zf.csv"):
        assert float(row["lead_time"]) == 0
        policy = disc.ss_poisson_exact(
            float(row["holding_cost"]),
            float(row["stockout_cost"]),
            float(row["fixed_cost"]),
            float(row["demand_mean"]),
        )
        assert (policy.reorder_point, policy.order_up_to_or_quantity) == (
            int(row["s_opt"]),
            int(row["S_opt"]),
        )
        assert policy.cost == close(float(row["cost_opt"]))
        level, _, _ = disc.base_stock_poisson(
            float(row["demand_mean"]), 0.0, float(row["holding_cost"]), float(row["stockout_cost"])
        )
        assert float(level) == float(row["y_star_newsvendor"])


def _textbook(instance: str, function: str) -> tuple[dict[str, Any], list[Any]]:
    for row in read_reference_table("stockpyl_textbook_examples.csv"):
        if row["instance"] == instance and row["function"] == function:
            return json.loads(row["params"]), json.loads(row["result"])
    raise AssertionError(f"{instance} / {function} not in the table")


def _expect_all_close(actual: list[float], expected: list[Any]) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a == close(float(e))


def test_textbook_examples_for_ss_newsvendor_and_eoq_match_published_answers() -> None:
    for instance in ("FoSCT Example 4.7", "FoSCT Problem 4.31"):
        p, expected = _textbook(instance, "ss.s_s_discrete_exact")
        res = disc.ss_poisson_exact(
            p["holding_cost"], p["stockout_cost"], p["fixed_cost"], p["demand_mean"]
        )
        _expect_all_close([res.reorder_point, res.order_up_to_or_quantity, res.cost], expected)
    p, expected = _textbook("FoSCT Example 4.8", "ss.s_s_power_approximation")
    s, big_s = pol.ss_power_approximation(
        p["holding_cost"],
        p["stockout_cost"],
        p["fixed_cost"],
        p["demand_mean"],
        p["demand_sd"],
    )
    _expect_all_close([float(s), float(big_s)], expected)
    for instance in ("FoSCT Example 4.3", "FoSCT Example 4.4", "FoSCT Problem 4.1"):
        p, expected = _textbook(instance, "newsvendor.newsvendor_normal")
        level, cost = pol.newsvendor_normal(**p)
        _expect_all_close([float(level), float(cost)], expected)
    p, expected = _textbook("FoSCT Example 4.3 (Poisson)", "newsvendor.newsvendor_poisson")
    _expect_all_close(list(disc.newsvendor_poisson(**p)), expected)
    p, expected = _textbook("FoSCT Example 3.1", "eoq.economic_order_quantity")
    _expect_all_close([float(v) for v in pol.economic_order_quantity(**p)], expected)
    p, expected = _textbook("FoSCT Example 3.8", "eoq.economic_order_quantity_with_backorders")
    values = pol.economic_order_quantity_with_backorders(**p)
    _expect_all_close([float(v) for v in values], expected)


def test_textbook_examples_for_rq_match_published_answers() -> None:
    names = ("holding_cost", "stockout_cost", "fixed_cost", "demand_mean", "demand_sd", "lead_time")
    for name, fn in RQ_METHODS.items():
        p, expected = _textbook("FoSCT Example 5.1", f"rq.{name}")
        inputs = pol.RQInputs(*[float(p[n]) for n in names])
        res = fn(inputs)
        r, q = float(res.reorder_point), float(res.order_quantity)
        actual = [r, q]
        if len(expected) == 3:  # the EIL heuristic also reports its approximate cost
            actual.append(float(pol.rq_eil_cost(r, q, inputs)))
        _expect_all_close(actual, expected)
    p, expected = _textbook("FoSCT Example 5.1", "rq.r_q_cost(r=126.8,Q=328.5)")
    inputs = pol.RQInputs(*[float(p[n]) for n in names])
    _expect_all_close([float(pol.rq_cost_normal(126.8, 328.5, inputs))], expected)
    p, expected = _textbook("FoSCT Example 5.1", "rq.r_q_optimal_r_for_q(Q=300)")
    # The optimal r for a given Q does not depend on the fixed cost (the example gives none).
    inputs = pol.RQInputs(*[float(p.get(n, 0.0)) for n in names])
    r_opt = pol.rq_optimal_r_for_q(300.0, inputs)
    _expect_all_close([float(r_opt)], expected)
    for instance in ("FoSCT Example 5.8", "FoSCT Problem 5.2"):
        p, expected = _textbook(instance, "rq.r_q_poisson_exact")
        args5 = [float(p[n]) for n in names if n != "demand_sd"]
        res_p = disc.rq_poisson_exact(disc.RQPoissonInputs(*args5))
        _expect_all_close(
            [res_p.reorder_point, res_p.order_up_to_or_quantity, res_p.cost], expected
        )
    p, expected = _textbook("FoSCT Example 5.8", "rq.r_q_cost_poisson(r=3,Q=5)")
    args5 = [float(p[n]) for n in names if n != "demand_sd"]
    _expect_all_close([disc.rq_cost_poisson(3, 5, disc.RQPoissonInputs(*args5))], expected)


def test_wagner_whitin_matches_textbook_example_3_9() -> None:
    p, expected = _textbook("FoSCT Example 3.9", "wagner_whitin.wagner_whitin")
    plan = wagner_whitin(p["holding_cost"], p["fixed_cost"], p["demand"])
    quantities, cost, theta, next_order = expected
    assert plan.order_quantities == quantities
    assert plan.total_cost == close(cost)
    np.testing.assert_allclose(plan.cost_to_go, theta, rtol=REL)
    assert plan.next_order == next_order
