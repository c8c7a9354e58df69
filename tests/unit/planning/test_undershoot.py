"""The undershoot below s when an order is triggered: exact for one demand, stationary for long
runs of demands (checked against a direct replay of the crossing)."""

from __future__ import annotations

import numpy as np

from stockpilot.planning.undershoot import review_sizes, undershoot_moments


def test_with_no_slack_the_undershoot_is_the_demand_that_triggers_the_order() -> None:
    demand = np.array([[0.0, 3.0, 0.0, 5.0, 10.0, 0.0]])
    sizes = review_sizes(demand, 1)
    mean, var = undershoot_moments(sizes, np.array([1.0]), np.array([True]))
    assert mean[0] == 6.0
    assert abs(var[0] - np.var([3.0, 5.0, 10.0])) < 1e-12


def test_review_sizes_sum_the_periods_of_a_review() -> None:
    demand = np.array([[1.0, 0.0, 0.0, 0.0, 2.0, 4.0]])
    sizes = review_sizes(demand, 2)
    # windows 1+0, 0+0 (no demand), 0+0, 0+2, 2+4; the last window runs past the history
    assert np.nansum(sizes.samples) == 1.0 + 2.0 + 6.0
    assert sizes.m1[0] == 3.0


def test_far_from_the_level_the_undershoot_follows_the_stationary_overshoot() -> None:
    rng = np.random.default_rng(8)
    sizes_drawn = np.ceil(rng.lognormal(1.5, 1.0, 4000))
    gap = 400.0
    # replay: the cumulative demand since the last order must reach the gap (IP < s when s = S)
    cum = np.cumsum(np.tile(sizes_drawn, 5))
    starts = np.arange(0, cum[-1] - 10 * gap, 37.0)
    crossing = np.searchsorted(cum, starts + gap)
    undershoot = cum[crossing] - (starts + gap) + 1.0
    mean, _ = undershoot_moments(
        review_sizes(sizes_drawn[None, :], 1), np.array([gap + 1.0]), np.array([True])
    )
    assert abs(mean[0] - undershoot.mean()) < 0.05 * undershoot.mean()
    # size-biased: far larger than a typical demand of these sporadic, heavy-tailed sizes
    assert mean[0] > np.median(sizes_drawn)
