"""The vectorised optimised-SES search against a plain per-series golden-section search."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from stockpilot.planning import intermittent
from stockpilot.planning.intermittent import Ragged, golden_alpha, ses_forecast


def _scalar_sse(x: list[float], alpha: float) -> float:
    fitted, sse = x[0], 0.0
    for prev, value in itertools.pairwise(x):
        fitted = alpha * prev + (1.0 - alpha) * fitted
        error = value - fitted
        sse += error * error
    return sse


def _scalar_golden(x: list[float], lo: float, hi: float, tolerance: float) -> float:
    """Textbook golden-section search, one series at a time, stopping on a tie."""
    ratio = (math.sqrt(5.0) + 1.0) / 2.0
    a, b = lo, hi
    c, d = b - (b - a) / ratio, a + (b - a) / ratio
    fc, fd = _scalar_sse(x, c), _scalar_sse(x, d)
    while abs(b - a) >= tolerance:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - (b - a) / ratio
            fc = _scalar_sse(x, c)
        elif fd < fc:
            a, c, fc = c, d, fd
            d = a + (b - a) / ratio
            fd = _scalar_sse(x, d)
        else:
            break
    return (a + b) / 2.0


def _scalar_forecast(x: list[float], alpha: float) -> float:
    fitted = x[0]
    for value in x:
        fitted = alpha * value + (1.0 - alpha) * fitted
    return x[0] if len(x) == 1 else fitted


def _random_sequences(seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 60, 200)
    return [list(rng.poisson(rng.uniform(0.5, 20.0), n).astype(float)) for n in lengths]


def _ragged(sequences: list[list[float]]) -> Ragged:
    width = max(len(s) for s in sequences)
    values = np.zeros((len(sequences), width))
    for i, s in enumerate(sequences):
        values[i, : len(s)] = s
    return Ragged.from_rows(values, np.array([len(s) for s in sequences], dtype=np.int64))


@pytest.mark.parametrize(("lo", "hi"), [(0.1, 0.3), (0.01, 0.99)])
def test_vectorised_search_finds_the_same_alpha_as_a_scalar_search_on_every_sequence(
    lo: float, hi: float
) -> None:
    sequences = _random_sequences(seed=7)
    seqs = _ragged(sequences)
    alpha = seqs.unsort(golden_alpha(seqs, lo, hi, tolerance=1e-12))
    forecast = seqs.unsort(ses_forecast(seqs, golden_alpha(seqs, lo, hi, tolerance=1e-12)))
    expected_alpha = [_scalar_golden(s, lo, hi, 1e-12) for s in sequences]
    expected = [_scalar_forecast(s, a) for s, a in zip(sequences, expected_alpha, strict=True)]
    # Same arithmetic, same comparisons: the paths agree bit for bit.
    np.testing.assert_array_equal(alpha, expected_alpha)
    np.testing.assert_array_equal(forecast, expected)


def test_default_tolerance_moves_forecasts_by_far_less_than_a_millionth() -> None:
    sequences = _random_sequences(seed=11)
    seqs = _ragged(sequences)
    fast = seqs.unsort(ses_forecast(seqs, golden_alpha(seqs)))
    exact = [_scalar_forecast(s, _scalar_golden(s, 0.1, 0.3, 1e-12)) for s in sequences]
    np.testing.assert_allclose(fast, exact, rtol=1e-7)


def test_croston_optimized_matches_sizes_and_intervals_searched_one_series_at_a_time() -> None:
    rng = np.random.default_rng(3)
    occurs = rng.random((150, 60)) < rng.uniform(0.05, 0.9, (150, 1))
    y = np.where(occurs, rng.poisson(4.0, (150, 60)), 0).astype(np.float64)
    expected = []
    for row in y:
        where = np.flatnonzero(row)
        if where.size == 0:
            expected.append(0.0)
            continue
        sizes = list(row[where])
        intervals = list(np.diff(where + 1, prepend=0).astype(float))
        size = _scalar_forecast(sizes, _scalar_golden(sizes, 0.1, 0.3, 1e-12))
        interval = _scalar_forecast(intervals, _scalar_golden(intervals, 0.1, 0.3, 1e-12))
        expected.append(size / interval)
    np.testing.assert_allclose(intermittent.croston_optimized(y), expected, rtol=1e-7)


def test_a_flat_sse_keeps_the_bracket_midpoint_instead_of_drifting_to_a_bound() -> None:
    # Two sizes (3, 6): the SSE (6 − 3)² does not depend on α; the tie stops the search at 0.2.
    seqs = _ragged([[3.0, 6.0], [1.0, 1.0, 1.0, 2.0]])
    alpha = golden_alpha(seqs)
    np.testing.assert_array_equal(alpha, [0.2, 0.2])
    np.testing.assert_allclose(seqs.unsort(ses_forecast(seqs, alpha)), [3.6, 1.2])


def test_series_without_demand_forecast_zero_everywhere() -> None:
    y = np.zeros((3, 20))
    for method in (
        intermittent.croston_optimized,
        intermittent.adida,
        intermittent.imapa,
        intermittent.optimized_ses,
    ):
        np.testing.assert_array_equal(method(y), np.zeros(3))


def test_a_single_demand_forecasts_its_size_over_its_interval() -> None:
    y = np.zeros((1, 20))
    y[0, 4] = 7.0
    np.testing.assert_allclose(intermittent.croston_optimized(y), [7.0 / 5.0])
    # Mean interval 5 → buckets of 5 periods: 7 in the first of four, then zeros.
    buckets = [7.0, 0.0, 0.0, 0.0]
    expected = _scalar_forecast(buckets, _scalar_golden(buckets, 0.1, 0.3, 1e-12)) / 5.0
    np.testing.assert_allclose(intermittent.adida(y), [expected], rtol=1e-7)


def test_constant_demand_forecasts_the_constant() -> None:
    y = np.full((2, 30), 4.0)
    for method in (
        intermittent.croston_optimized,
        intermittent.adida,
        intermittent.imapa,
        intermittent.optimized_ses,
    ):
        np.testing.assert_allclose(method(y), [4.0, 4.0])


def test_one_value_sequences_forecast_that_value() -> None:
    seqs = _ragged([[5.0], [2.0, 4.0, 3.0], [9.0]])
    forecast = seqs.unsort(ses_forecast(seqs, golden_alpha(seqs)))
    assert forecast[0] == 5.0
    assert forecast[2] == 9.0
