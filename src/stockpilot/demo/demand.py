"""Demand, receipt and opening-stock numbers of the demo distributor (pure NumPy, vectorised).

Weekly demand per item-site follows one of six patterns, so that planning meets every case:

- smooth: gamma-Poisson around a level (CV² small, an order most weeks);
- seasonal: the level times ``1 + A·sin(2π(t + φ)/52)``, amplitude A in [0.3, 0.8];
- trending: the level growing or shrinking linearly over the horizon;
- intermittent: an order in a week with probability 0.1-0.35, small steady sizes;
- lumpy: rare orders (probability 0.04-0.25) of very variable size;
- dying: smooth until a death week in the middle of the horizon, then fading to nothing.

Receipts at the hub are the purchase orders that fed this demand: one order per cycle of
2-13 weeks covering the cycle's demand (rounded up to the pack, at least the MOQ), each arriving
after a lead time drawn from its supplier's distribution (log-normal with the supplier's mean
and standard deviation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

PATTERNS = ("smooth", "seasonal", "trending", "intermittent", "lumpy", "dying")
PATTERN_SHARES = (0.33, 0.15, 0.10, 0.20, 0.13, 0.09)
SMOOTH, SEASONAL, TRENDING, INTERMITTENT, LUMPY, DYING = range(6)
CYCLE_WEEKS = np.array([2, 4, 8, 13])


def assign_patterns(n_items: int, rng: np.random.Generator) -> IntArray:
    """One demand pattern per item (all sites of an item share it; levels differ by site)."""
    return rng.choice(len(PATTERNS), size=n_items, p=PATTERN_SHARES).astype(np.int64)


def weekly_demand(
    pattern: IntArray, level: FloatArray, weeks: int, rng: np.random.Generator
) -> IntArray:
    """Units demanded per series (rows) and week (columns); ``level`` is the mean per week."""
    n = len(pattern)
    t = np.arange(weeks, dtype=np.float64)[None, :]
    rate = np.repeat(level[:, None], weeks, axis=1)
    amplitude = rng.uniform(0.3, 0.8, n)[:, None]
    phase = rng.uniform(0, 52, n)[:, None]
    seasonal = 1 + amplitude * np.sin(2 * np.pi * (t + phase) / 52)
    growth = rng.uniform(-0.7, 1.5, n)[:, None]
    trend = np.maximum(0.05, 1 + growth * (t / max(weeks - 1, 1) - 0.5))
    death = rng.uniform(0.3, 0.75, n)[:, None] * weeks
    fade = np.clip((death - t) / 8.0 + 1.0, 0.0, 1.0)
    rate = np.where((pattern == SEASONAL)[:, None], rate * seasonal, rate)
    rate = np.where((pattern == TRENDING)[:, None], rate * trend, rate)
    rate = np.where((pattern == DYING)[:, None], rate * fade, rate)
    # Gamma-Poisson (negative binomial): more spread than Poisson, as real demand has.
    continuous = rng.poisson(rng.gamma(6.0, rate / 6.0))
    occurs = (
        rng.random((n, weeks))
        < np.where(pattern == INTERMITTENT, rng.uniform(0.1, 0.35, n), rng.uniform(0.04, 0.25, n))[
            :, None
        ]
    )
    steady = 1 + rng.poisson(np.maximum(level, 0.3)[:, None] * 0.3, (n, weeks))
    erratic = np.ceil(rng.lognormal(np.log(np.maximum(level, 1.0) * 2)[:, None], 1.2, (n, weeks)))
    sporadic = np.where(occurs, np.where((pattern == LUMPY)[:, None], erratic, steady), 0)
    sparse = (pattern == INTERMITTENT) | (pattern == LUMPY)
    return np.where(sparse[:, None], sporadic, continuous).astype(np.int64)


@dataclass(frozen=True)
class DemandLines:
    """Order lines generated from a demand matrix: one per series-week with demand."""

    series: IntArray
    day: IntArray  # days since the first day of history
    quantity: IntArray
    quantity_fulfilled: IntArray
    customer: IntArray


def demand_lines(
    demand: IntArray, customer_weights: FloatArray, rng: np.random.Generator
) -> DemandLines:
    series, week = np.nonzero(demand)
    quantity = demand[series, week]
    day = week * 7 + rng.integers(0, 5, len(week))  # a weekday of that week
    # One line in twenty was short-shipped: the demand still counts, fulfilment is lower.
    short = rng.random(len(quantity)) < 0.05
    fulfilled = np.where(short, rng.binomial(quantity, 0.6), quantity)
    p = customer_weights / customer_weights.sum()
    customer = rng.choice(len(p), size=len(quantity), p=p)
    return DemandLines(
        series.astype(np.int64),
        day.astype(np.int64),
        quantity.astype(np.int64),
        fulfilled.astype(np.int64),
        customer.astype(np.int64),
    )


@dataclass(frozen=True)
class Receipts:
    item: IntArray  # index into the arrays given (the chunk's items)
    order_day: IntArray
    receipt_day: IntArray
    quantity: IntArray


def lognormal_params(mean: FloatArray, std: FloatArray) -> tuple[FloatArray, FloatArray]:
    """μ, σ of the log-normal with this mean and standard deviation:
    σ² = ln(1 + (s/m)²), μ = ln m − σ²/2."""
    sigma2 = np.log1p((std / np.maximum(mean, 1e-9)) ** 2)
    return np.log(np.maximum(mean, 1e-9)) - sigma2 / 2, np.sqrt(sigma2)


def hub_receipts(
    item_demand: IntArray,
    pack: IntArray,
    moq: IntArray,
    lead_mean: FloatArray,
    lead_std: FloatArray,
    rng: np.random.Generator,
) -> Receipts:
    """Purchase receipts per item: one order per cycle with demand, before the history ends."""
    n, weeks = item_demand.shape
    cycle = rng.choice(CYCLE_WEEKS, size=n)
    offset = rng.integers(0, cycle)
    max_orders = weeks // int(CYCLE_WEEKS.min()) + 1
    order_week = offset[:, None] + np.arange(max_orders)[None, :] * cycle[:, None]
    cum = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(item_demand, axis=1)], axis=1)
    start = np.minimum(order_week, weeks)
    end = np.minimum(order_week + cycle[:, None], weeks)
    covered = np.take_along_axis(cum, end, axis=1) - np.take_along_axis(cum, start, axis=1)
    valid = (order_week < weeks) & (covered > 0)
    rows, cols = np.nonzero(valid)
    wanted = covered[rows, cols] * rng.uniform(0.9, 1.25, len(rows))
    quantity = np.maximum(np.ceil(wanted / pack[rows]) * pack[rows], moq[rows]).astype(np.int64)
    mu, sigma = lognormal_params(lead_mean[rows], lead_std[rows])
    lead = np.maximum(1, np.rint(rng.lognormal(mu, sigma))).astype(np.int64)
    order_day = order_week[rows, cols] * 7 + rng.integers(0, 5, len(rows))
    receipt_day = order_day + lead
    keep = receipt_day < weeks * 7
    return Receipts(
        rows[keep].astype(np.int64),
        order_day[keep].astype(np.int64),
        receipt_day[keep].astype(np.int64),
        quantity[keep],
    )


def opening_quantity(
    demand: IntArray, serial_tracked: npt.NDArray[np.bool_], rng: np.random.Generator
) -> IntArray:
    """Stock on hand per series: 1.5-6 weeks of recent demand; none for about one in ten."""
    recent = demand[:, -8:].mean(axis=1)
    cover = rng.uniform(1.5, 6.0, len(recent))
    quantity = np.ceil(recent * cover).astype(np.int64)
    quantity[rng.random(len(recent)) < 0.1] = 0
    # Serial-tracked units are received one serial number each: keep them few.
    return np.where(serial_tracked, np.minimum(quantity, 3), quantity)
