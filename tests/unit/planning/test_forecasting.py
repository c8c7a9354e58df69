"""Forecast kernels against statsforecast reference values, and forecasting behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stockpilot.planning import intermittent
from stockpilot.planning.forecast_kernels import croston_kernel, tsb_kernel
from stockpilot.planning.forecasting import forecast_all, horizon_error_sigma
from stockpilot.planning.segmentation import demand_classes
from tests.unit.planning.conftest import read_reference_table

METHODS = {
    "CrostonClassic": intermittent.croston_classic,
    "CrostonSBA": intermittent.croston_sba,
    "CrostonOptimized": intermittent.croston_optimized,
    "TSB_a0.1_b0.1": lambda y: intermittent.tsb(y, 0.1, 0.1),
    "TSB_a0.2_b0.05": lambda y: intermittent.tsb(y, 0.2, 0.05),
    "ADIDA": intermittent.adida,
    "IMAPA": intermittent.imapa,
}


@pytest.mark.parametrize("column", sorted(METHODS))
def test_intermittent_forecasts_match_statsforecast_reference(column: str) -> None:
    rows = read_reference_table("intermittent_forecasts.csv")
    y = np.array([json.loads(r["y"]) for r in rows], dtype=float)
    expected = np.array([float(r[column]) for r in rows])
    np.testing.assert_allclose(METHODS[column](y), expected, rtol=1e-6)


def test_tsb_forecast_decays_for_a_dying_item_while_croston_stays_flat() -> None:
    alive = np.tile([5.0, 0.0], 20)
    y = np.concatenate([alive, np.zeros(30)])[None, :]
    tsb_then = tsb_kernel(y[:, :40], 0.1, 0.1).path[0, 0, 0]
    tsb_now = tsb_kernel(y, 0.1, 0.1).path[0, 0, 0]
    croston_now = croston_kernel(y, 0.1).path[0, 0, 0]
    assert tsb_now < 0.1 * tsb_then
    assert croston_now == pytest.approx(croston_kernel(y[:, :40], 0.1).path[0, 0, 0])


def test_grid_search_evaluates_every_parameter_row_for_every_series_at_once() -> None:
    y = np.random.default_rng(3).poisson(4.0, (7, 30)).astype(float)
    run = croston_kernel(y, np.array([0.1, 0.2, 0.3]))
    assert run.sse.shape == (3, 7)
    single = croston_kernel(y, 0.2)
    np.testing.assert_allclose(run.sse[1], single.sse[0])


def test_forecast_all_records_method_parameters_and_holdout_errors() -> None:
    rng = np.random.default_rng(5)
    smooth = rng.poisson(30, (20, 104)).astype(float)
    sparse = ((rng.random((20, 104)) < 0.2) * rng.poisson(5, (20, 104))).astype(float)
    y = np.vstack([smooth, sparse])
    classes, _, _ = demand_classes(y)
    result = forecast_all(y, classes, 52)
    frame = result.frame
    assert set(frame["method"][:20]) <= {"ses", "holt", "holt_winters"}
    assert set(frame["method"][20:]) <= {"croston", "sba", "tsb", "ses"}
    assert frame["alpha"].is_not_null().all()
    assert (frame["rmse"] >= frame["mae"] - 1e-9).all()
    assert frame["mase"].is_finite().all()
    np.testing.assert_allclose(frame["forecast_per_period"][:20].to_numpy().mean(), 30.0, rtol=0.1)
    assert (frame["forecast_sigma"][:20] > 3).all()


def test_horizon_error_sigma_is_zero_for_a_perfect_flat_forecast_and_grows_with_noise() -> None:
    y = np.full((1, 20), 3.0)
    fitted = np.full((1, 20), 3.0)
    assert horizon_error_sigma(y, fitted, [4.0])[0] == 0.0
    noisy = y + np.random.default_rng(1).normal(0, 1, (1, 20))
    assert horizon_error_sigma(noisy, fitted, [4.0])[0] > horizon_error_sigma(noisy, fitted, [1])[0]
