"""The stated error is the error the engine makes: horizon errors, honest z, error shapes and the
calibration report, each on small worked examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from stockpilot.planning.calibration import (
    error_shapes,
    honest_z,
    shape_cycle_level,
    shape_fill_rate_level,
)
from stockpilot.planning.calibration_report import calibration_by_class, standardised_errors
from stockpilot.planning.engine import protection_rate
from stockpilot.planning.horizon_error import horizon_error_stats, origin_weights
from stockpilot.planning.policy import rs_fill_rate_level_normal
from stockpilot.planning.stats import normal_ppf


def test_protection_demand_follows_the_seasonal_path_not_the_average_of_the_horizon() -> None:
    # A path that peaks in its first two periods: the two-period protection rate is the peak's.
    path = np.array([[30.0, 30.0, 10.0, 10.0, 10.0, 10.0]])
    assert protection_rate(path, np.array([2.0])).tolist() == [30.0]
    assert path.mean() == pytest.approx(16.6667, abs=1e-3)


def test_recent_origins_weigh_more_with_a_half_life() -> None:
    weights = origin_weights(np.array([[True, True, True]]), 2.0)
    assert weights[0].tolist() == pytest.approx([0.5, 2**-0.5, 1.0])


def test_a_persistent_under_forecast_is_measured_as_bias_and_moves_the_protection_demand() -> None:
    errors = np.full((1, 30), 5.0) + np.tile([1.0, -1.0], 15)[None, :]
    stats = horizon_error_stats(errors, np.array([100.0]), np.array([0]), 26, np.inf, 0.0)
    assert stats.bias[0] == pytest.approx(5.0)
    assert stats.sigma[0] == pytest.approx(1.0)


def test_a_short_level_relative_series_takes_its_segments_relative_error() -> None:
    long = np.tile([0.1, -0.1], 15)[None, :]  # 10 % relative error, 30 origins
    short = np.full((1, 30), np.nan)
    short[0, -3:] = [0.5, -0.5, 0.5]  # three origins: not enough of its own
    stats = horizon_error_stats(
        np.vstack([long, short]), np.array([200.0, 50.0]), np.array([0, 0]), 26, np.inf, 0.0,
        np.array([True, True]),
    )  # fmt: skip
    assert stats.sigma.tolist() == pytest.approx([20.0, 5.0])
    assert stats.own.tolist() == [True, False]


def test_an_error_is_standardised_only_by_what_was_known_before_its_origin() -> None:
    # Errors of one-period windows: the first four are known before origin 4.
    errors = np.array([[1.0, -1.0, 1.0, -1.0, 3.0]])
    z = honest_z(errors, [1], np.inf, 4)
    assert np.isnan(z[0, :4]).all()
    assert z[0, 4] == pytest.approx(3.0)


def test_a_normal_error_shape_reproduces_the_normal_fill_rate_level() -> None:
    rng = np.random.default_rng(3)
    z = rng.standard_normal((1, 200_000))
    shape = error_shapes(z, np.array([0]), 1, 200_000, 100)
    args = (np.array([0.95]), np.array([100.0]), np.array([10.0]), np.array([50.0]))
    rest = (np.array([7.0]), np.array([50.0]), np.array([0.0]))
    empirical = shape_fill_rate_level(shape, np.array([0]), *args, *rest)
    normal = rs_fill_rate_level_normal(*args, *rest)
    assert shape.dispersion[0] == pytest.approx(1.0, abs=0.01)
    assert empirical[0] == pytest.approx(normal[0], abs=0.2)


def test_a_heavy_right_tail_raises_the_cycle_service_level_above_the_normal() -> None:
    rng = np.random.default_rng(5)
    heavy = rng.standard_t(3, (1, 100_000))
    shape = error_shapes(heavy, np.array([0]), 1, 100_000, 100)
    level = shape_cycle_level(
        shape, np.array([0]), np.array([0.995]), np.array([100.0]), np.array([10.0])
    )
    normal = 100.0 + 10.0 * float(normal_ppf(0.995))
    assert level[0] > normal


def test_a_segment_with_too_few_honest_errors_keeps_the_normal() -> None:
    shape = error_shapes(np.array([[0.5, 1.0, np.nan]]), np.array([0]), 1, 10, 100)
    assert shape.pooled.tolist() == [0]
    assert shape.dispersion.tolist() == [1.0]


def test_calibration_counts_protection_periods_above_forecast_plus_k_sigma_per_class() -> None:
    # Two periods protected (H = 2), forecast 10 and σ 2 at every origin.
    demand = np.array([[5.0, 5.0, 6.0, 9.0, 5.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    mean, sigma, h = np.full((2, 5), 10.0), np.full((2, 5), 2.0), np.full((2, 5), 2.0)
    z = standardised_errors(demand, mean, sigma, h, 0)
    # series 0: windows 10, 11, 15, 14 → z = 0, 0.5, 2.5, 2.0
    assert z[0, :4].tolist() == [0.0, 0.5, 2.5, 2.0]
    series = pl.DataFrame(
        {"demand": [30.0, 5.0], "served": [27.0, 5.0], "average_on_hand": [3.0, 2.0]}
    )
    report = calibration_by_class(np.array(["smooth", "slow"]), z, series, 5)
    smooth = report.filter(pl.col("demand_class") == "smooth").row(0, named=True)
    assert smooth["protection_periods"] == 4
    assert smooth["exceeded_k0"] == 0.75
    assert smooth["exceeded_k1645"] == 0.5
    assert smooth["normal_k1645"] == pytest.approx(0.05, abs=1e-3)
    assert smooth["fill_rate"] == pytest.approx(0.9)
    assert smooth["median_inventory_to_demand"] == pytest.approx(0.5)


def test_simulate_from_csv_reports_the_calibration_of_the_stated_sigma(tmp_path: Path) -> None:
    import typer

    from stockpilot.cli.plan import register

    rng = np.random.default_rng(1)
    rows = ["item,site,date,quantity"]
    for i in range(6):
        for m in range(48):
            rows.append(f"I{i},S,{2020 + m // 12}-{m % 12 + 1:02d}-01,{rng.poisson(40)}")
    (tmp_path / "demand.csv").write_text("\n".join(rows) + "\n")
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(
        app,
        ["simulate", "--from-csv", str(tmp_path), "--holdout", "6", "--period", "month",
         "--service-level", "0.95", "--service-type", "fill_rate"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for column in ("exceeded_k1645", "normal_k1645", "median_inventory_to_demand"):
        assert column in result.output
