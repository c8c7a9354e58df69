"""Demand history and segmentation against the reference table."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from stockpilot.planning.history import build_demand_history
from stockpilot.planning.segmentation import SegmentationConfig, segment
from tests.unit.planning.conftest import read_reference_table


def test_abc_xyz_and_demand_class_match_reference_table() -> None:
    rows = read_reference_table("abc_xyz_classes.csv")
    y = np.array([json.loads(r["demand_24_periods"]) for r in rows], dtype=float)
    series = pl.DataFrame({"item": [r["item"] for r in rows], "site": ["S"] * len(rows)})
    cost = np.array([float(r["unit_cost"]) for r in rows])
    seg = segment(y, series, cost, 12, SegmentationConfig(abc_window=12, xyz_window=12))
    for column in ("abc", "xyz", "demand_class"):
        assert seg[column].to_list() == [r[column] for r in rows], column
    np.testing.assert_allclose(
        seg["annual_value"], [float(r["annual_value_last_12"]) for r in rows]
    )
    np.testing.assert_allclose(seg["cv_recent"], [float(r["cv_last_12"]) for r in rows], rtol=1e-9)
    np.testing.assert_allclose(seg["adi"], [float(r["adi_24"]) for r in rows], rtol=1e-9)
    np.testing.assert_allclose(seg["cv2"], [float(r["cv2_nonzero_24"]) for r in rows], rtol=1e-9)


def test_service_level_override_and_critical_items_beat_segment_defaults() -> None:
    y = np.array([[10.0] * 12, [1.0, 0.0] * 6])
    series = pl.DataFrame({"item": ["a", "b"], "site": ["S", "S"]})
    seg = segment(
        y,
        series,
        np.ones(2),
        12,
        critical=np.array([False, True]),
        service_level_override=np.array([0.9, np.nan]),
    )
    assert seg["service_level"].to_list() == [0.9, 0.99]


def test_history_is_dense_with_zero_periods_and_flags_outliers_without_dropping_them() -> None:
    dates = [f"2024-01-{d:02d}" for d in (1, 8, 15, 29)] + ["2024-02-05", "2024-02-12"]
    lines = pl.DataFrame(
        {
            "item": ["a"] * 6 + ["b"],
            "site": ["S"] * 7,
            "date": [*dates, "2024-01-03"],
            "quantity": [10.0, 11.0, 9.0, 10.0, 500.0, 10.0, 4.0],
        }
    )
    history = build_demand_history(lines, "week")
    assert history.n_periods == 7  # 2024-01-01 .. 2024-02-12, week 2024-01-22 has no demand
    a = history.series["item"].to_list().index("a")
    assert history.demand[a].tolist() == [10.0, 11.0, 9.0, 0.0, 10.0, 500.0, 10.0]
    assert history.outlier[a].tolist() == [False] * 5 + [True, False]
    assert history.demand[a, 5] == 500.0  # kept in the demand matrix
    assert 10.0 < history.cleaned[a, 5] < 500.0  # winsorised copy for forecasting
    b = history.series["item"].to_list().index("b")
    assert history.demand[b, 0] == 4.0
