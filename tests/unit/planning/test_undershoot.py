"""The undershoot below s when an order is triggered: exact for one demand, stationary for long
runs of demands (checked against a direct replay of the crossing)."""

from __future__ import annotations

import numpy as np
import pytest

from stockpilot.planning.levels import PolicyInputs, PolicyLevels, policy_levels
from stockpilot.planning.undershoot import (
    dispersion_tail,
    pool_size_dispersion,
    review_sizes,
    undershoot_moments,
)


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


def test_pooled_dispersion_widens_a_narrow_sparse_series_towards_its_group() -> None:
    rng = np.random.default_rng(3)
    wide = np.ceil(rng.lognormal(np.log(20.0), 1.2, (40, 12)))
    narrow = np.array([[18.0, 20.0, 22.0, 19.0, 21.0, 20.0, 23.0, 17.0, 20.0, 21.0, 19.0, 20.0]])
    demand = np.vstack([wide, narrow])
    sizes = review_sizes(demand, 1)
    groups = np.zeros(demand.shape[0], dtype=np.int64)
    pooled = pool_size_dispersion(sizes, groups, prior_weight=30.0)
    assert pooled.m1[-1] == pytest.approx(sizes.m1[-1])
    assert pooled.m2[-1] > 1.5 * sizes.m2[-1]
    assert np.nanmax(pooled.samples[-1]) > 2.0 * np.nanmax(sizes.samples[-1])
    unpooled = pool_size_dispersion(sizes, np.full(demand.shape[0], -1), prior_weight=30.0)
    assert np.array_equal(unpooled.m2, sizes.m2)


def test_a_steady_looking_series_among_heavy_tailed_ones_keeps_part_of_their_tail() -> None:
    # The demo's cause of intermittent at 96 % for a 98 % target: series whose sizes come from a
    # lognormal with σ = 1.2 but whose ten sizes looked steady (CV² < 0.49) land in the
    # intermittent class beside a steady majority (σ ≈ 0.3). One pooled σ₀² pulled them to the
    # majority; the mixture prior keeps a heavy component, so such a series' E[exp(σ²)] is above
    # the steady series' and above exp of the one pooled σ₀².
    rng = np.random.default_rng(11)
    steady = np.log(1.0 + rng.poisson(6.0, (300, 11)))
    heavy = rng.normal(0.0, 1.2, (100, 11))
    logs = np.vstack([steady, heavy])
    ss = ((logs - logs.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    dof = np.full(ss.size, 10.0)
    tail = dispersion_tail(ss, dof, np.zeros(ss.size, np.int64), np.ones(ss.size, bool))
    pooled_sigma2 = ss.sum() / dof.sum()
    # a series that looks like s² = 0.45 over ten degrees of freedom (FAS-001661 at the hub)
    probe = dispersion_tail(
        np.append(ss, 4.5), np.append(dof, 10.0), np.zeros(ss.size + 1, np.int64),
        np.ones(ss.size + 1, bool),
    )[-1]  # fmt: skip
    assert np.median(tail[:300]) < 1.5 < np.median(tail[300:])
    assert probe > np.exp(0.45)
    # above what one pooled σ₀² worth 30 degrees of freedom gave it
    assert probe > np.exp((30.0 * pooled_sigma2 + 4.5) / 40.0)
    assert probe > np.median(tail[:300])
    # rows not pooled are left alone
    untouched = dispersion_tail(ss, dof, np.zeros(ss.size, np.int64), np.zeros(ss.size, bool))
    assert np.all(untouched == 1.0)


def test_the_protection_variance_of_an_intermittent_item_follows_its_current_rate() -> None:
    # Large past sizes and a forecast near zero: the compound variance at the current rate is
    # tiny, where the old one-step σ of the history (60) kept a wide negative binomial.
    rng = np.random.default_rng(5)
    history = np.where(rng.random((1, 60)) < 0.5, rng.integers(100, 300, (1, 60)), 0.0)
    history[:, 40:] = 0.0
    one = np.ones(1)

    def levels_with(groups: np.ndarray | None) -> PolicyLevels:
        return policy_levels(
            PolicyInputs(
                forecast=np.array([1e-4]), sigma=np.array([60.0]), lead_time=2 * one,
                lead_time_sd=0 * one, review_period=one, service_level=np.array([0.95]),
                service_type="fill_rate", lot_size=0 * one, moq=0 * one, pack_size=one,
                capacity=np.array([np.nan]), discrete=np.array([True]),
                sizes=review_sizes(history, 1), size_groups=groups,
            )
        )  # fmt: skip

    unpooled, pooled = levels_with(None), levels_with(np.array([0]))
    assert unpooled.sigma_over_protection[0] == pytest.approx(60.0 * np.sqrt(3.0))
    assert pooled.sigma_over_protection[0] < 1.0
    assert pooled.reorder_point[0] < unpooled.reorder_point[0]
