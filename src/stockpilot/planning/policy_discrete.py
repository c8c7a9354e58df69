"""Policies under discrete (Poisson / negative binomial) demand, for slow movers.

Per-period cost of an inventory level ``y`` facing integer demand ``D``:
``g(y) = h·E[(y − D)+] + p·E[(D − y)+]`` (S&S eq. 4.53). Levels are integers (item units).

* :func:`base_stock_poisson` — smallest ``S`` with ``F(S) ≥ p/(p + h)``, protection over
  ``L + 1`` periods (S&S Thm 4.6; stockpyl's convention).
* :func:`rq_poisson_exact` — exact optimal (r, Q), Federgruen & Zheng (1992): inventory position
  uniform on ``{r + 1, …, r + Q}``; cost per unit time
  ``C(r, Q) = [K·λ + Σ_{y=r+1}^{r+Q} g(y)]/Q`` with ``D ~ Poisson(λL)``; order when IP ≤ r.
* :func:`ss_poisson_exact` — optimal periodic-review (s, S), Zheng & Federgruen (1991), zero lead
  time, backorders, order when IP ≤ s, cost per period
  ``c(s, S) = [K + Σ_{j=0}^{S−s−1} m(j)·g(S − j)]/M(S − s)`` with the renewal quantities
  ``m(0) = 1/(1 − p₀)``, ``m(j) = Σ_{l=1}^{j} p_l·m(j − l)/(1 − p₀)``, ``M(j) = Σ_{i<j} m(i)``.

The vectorised engine helpers :func:`discrete_cycle_service_level` and
:func:`discrete_fill_rate_level` work on arrays of series at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stockpilot.planning.stats import (
    ArrayLike,
    FloatArray,
    discrete_loss,
    discrete_quantile,
    poisson_cdf,
    poisson_pmf,
)

__all__ = [
    "DiscretePolicy",
    "RQPoissonInputs",
    "base_stock_poisson",
    "discrete_cycle_service_level",
    "discrete_fill_rate_level",
    "newsvendor_poisson",
    "poisson_level_cost",
    "rq_cost_poisson",
    "rq_poisson_exact",
    "ss_cost_poisson",
    "ss_poisson_exact",
]


def poisson_level_cost(
    level: ArrayLike, mean: ArrayLike, holding_cost: ArrayLike, stockout_cost: ArrayLike
) -> FloatArray:
    """``g(y) = h·E[(y − D)+] + p·E[(D − y)+]`` for ``D ~ Poisson(mean)`` (vectorised).

    Uses ``E[(y − D)+] = y − μ + E[(D − y)+]``.
    """
    y = np.asarray(level, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    shortage = discrete_loss(y, mu)
    leftover = y - mu + shortage
    h = np.asarray(holding_cost, dtype=np.float64)
    p = np.asarray(stockout_cost, dtype=np.float64)
    out = h * leftover + p * shortage
    return np.asarray(out.reshape(np.broadcast_shapes(y.shape, mu.shape)), dtype=np.float64)


def base_stock_poisson(
    demand_mean: ArrayLike, lead_time: ArrayLike, holding_cost: ArrayLike, stockout_cost: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Optimal base-stock level under Poisson demand over ``L + 1`` periods (S&S §4.3.3).

    ``S* = min{S : F(S) ≥ p/(p + h)}`` with ``D ~ Poisson(μ·(L + 1))``.
    Returns ``(S*, expected cost g(S*), cycle service F(S*))``.
    """
    mu = np.asarray(demand_mean, dtype=np.float64) * (np.asarray(lead_time, dtype=np.float64) + 1)
    h = np.asarray(holding_cost, dtype=np.float64)
    p = np.asarray(stockout_cost, dtype=np.float64)
    level = discrete_quantile(p / (p + h), mu)
    level = level.reshape(np.broadcast_shapes(mu.shape, h.shape, p.shape))
    cost = poisson_level_cost(level, mu, h, p)
    return level, cost, poisson_cdf(level, mu)


def newsvendor_poisson(
    holding_cost: float, stockout_cost: float, demand_mean: float
) -> tuple[float, float]:
    """Newsvendor with Poisson demand: ``(S*, g(S*))`` (S&S §4.3.3).

    >>> s, c = newsvendor_poisson(0.18, 0.70, 50)
    >>> s, round(c, 6)
    (56.0, 1.797235)
    """
    level, cost, _ = base_stock_poisson(demand_mean, 0.0, holding_cost, stockout_cost)
    return float(level), float(cost)


@dataclass(frozen=True)
class DiscretePolicy:
    """An integer two-number policy and its expected cost per period (or per time unit)."""

    reorder_point: int
    order_up_to_or_quantity: int
    cost: float


def _cost_function(mean: float, h: float, p: float) -> Callable[[int], float]:
    cache: dict[int, float] = {}

    def g(y: int) -> float:
        if y not in cache:
            cache[y] = float(poisson_level_cost(float(y), mean, h, p))
        return cache[y]

    return g


@dataclass(frozen=True)
class RQPoissonInputs:
    """Costs and Poisson demand of an (r, Q) policy: ``holding_cost`` ``h`` per unit per time
    unit, ``stockout_cost`` ``p`` per unit backordered, ``fixed_cost`` ``K`` per order,
    ``demand_mean`` ``λ`` per time unit, ``lead_time`` ``L`` (lead-time demand Poisson(λL))."""

    holding_cost: float
    stockout_cost: float
    fixed_cost: float
    demand_mean: float
    lead_time: float


def rq_cost_poisson(r: int, q: int, inputs: RQPoissonInputs) -> float:
    """Exact (r, Q) cost per unit time, ``[K·λ + Σ_{y=r+1}^{r+Q} g(y)]/Q`` (S&S eq. 5.44)."""
    g = _cost_function(
        inputs.demand_mean * inputs.lead_time, inputs.holding_cost, inputs.stockout_cost
    )
    total = sum(g(y) for y in range(r + 1, r + q + 1))
    return (inputs.fixed_cost * inputs.demand_mean + total) / q


def rq_poisson_exact(inputs: RQPoissonInputs) -> DiscretePolicy:
    """Exact optimal (r, Q) under Poisson demand, Federgruen & Zheng (1992).

    Start from ``y* = argmin g`` with ``Q = 1``; grow the set ``{r + 1, …, r + Q}`` one level at a
    time on the side with the smaller ``g`` while that ``g`` is below the current average cost.
    ``h`` is per unit per time unit of ``λ`` (the reference table uses ``h = 1``).
    """
    fixed_cost, demand_mean = inputs.fixed_cost, inputs.demand_mean
    mean = demand_mean * inputs.lead_time
    g = _cost_function(mean, inputs.holding_cost, inputs.stockout_cost)
    y_star = int(np.floor(mean))
    while g(y_star + 1) < g(y_star):
        y_star += 1
    while g(y_star - 1) < g(y_star):
        y_star -= 1
    r, q = y_star - 1, 1
    total = g(y_star)
    cost = (fixed_cost * demand_mean + total) / q
    while True:
        left, right = g(r), g(r + q + 1)
        best = min(left, right)
        if best >= cost:
            break
        if left <= right:
            r -= 1
        total += best
        q += 1
        cost = (fixed_cost * demand_mean + total) / q
    return DiscretePolicy(r, q, cost)


def _renewal(mean: float, size: int) -> tuple[FloatArray, FloatArray]:
    """Renewal quantities ``m(j)`` and ``M(j)`` of Zheng & Federgruen (1991), eq. (3a)–(3b)."""
    pmf = poisson_pmf(np.arange(size + 1, dtype=np.float64), mean)
    m = np.zeros(size + 1)
    m[0] = 1.0 / (1.0 - pmf[0])
    for j in range(1, size + 1):
        m[j] = float(np.dot(pmf[1 : j + 1], m[j - 1 :: -1][:j])) / (1.0 - pmf[0])
    big_m = np.concatenate(([0.0], np.cumsum(m)))
    return m, big_m


def ss_cost_poisson(
    s: int,
    big_s: int,
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    demand_mean: float,
) -> float:
    """Expected cost per period of (s, S) under Poisson demand, zero lead time (ZF eq. 2)."""
    g = _cost_function(demand_mean, holding_cost, stockout_cost)
    m, big_m = _renewal(demand_mean, big_s - s + 1)
    total = fixed_cost + sum(m[j] * g(big_s - j) for j in range(big_s - s))
    return float(total / big_m[big_s - s])


def ss_poisson_exact(
    holding_cost: float, stockout_cost: float, fixed_cost: float, demand_mean: float
) -> DiscretePolicy:
    """Optimal periodic-review (s, S) under Poisson demand: Zheng & Federgruen (1991) algorithm.

    ``s`` is the level at or below which an order is placed. Zero lead time (a lead time ``L``
    is handled by passing the mean demand over ``L + 1`` periods for ``g``); backorders.

    >>> policy = ss_poisson_exact(1, 4, 5, 6)
    >>> policy.reorder_point, policy.order_up_to_or_quantity, round(policy.cost, 9)
    (4, 10, 8.034111561)
    """
    h, p, k, mu = holding_cost, stockout_cost, fixed_cost, demand_mean
    g = _cost_function(mu, h, p)

    def c(s: int, big_s: int) -> float:
        return ss_cost_poisson(s, big_s, h, p, k, mu)

    y_star = int(np.floor(mu))
    while g(y_star + 1) < g(y_star):
        y_star += 1
    while g(y_star - 1) < g(y_star):
        y_star -= 1
    # c(y*, y*) is undefined (no state between s and S), so the search starts one below y*.
    s = y_star - 1
    big_s0 = y_star
    while c(s, big_s0) > g(s):
        s -= 1
    c0 = c(s, big_s0)
    big_s = big_s0 + 1
    while g(big_s) <= c0:
        if c(s, big_s) < c0:
            big_s0 = big_s
            while c(s, big_s0) <= g(s + 1):
                s += 1
            c0 = c(s, big_s0)
        big_s += 1
    return DiscretePolicy(s, big_s0, c0)


def discrete_cycle_service_level(
    cycle_service_level: ArrayLike, mean: ArrayLike, variance: ArrayLike
) -> FloatArray:
    """Smallest integer level ``s`` with ``P(D ≤ s) ≥ CSL`` for protection demand ``D``.

    ``D`` is Poisson when ``variance ≤ mean`` and negative binomial otherwise (vectorised).
    """
    return discrete_quantile(cycle_service_level, mean, np.maximum(variance, mean))


def discrete_fill_rate_level(
    fill_rate: ArrayLike,
    mean_protection: ArrayLike,
    variance_protection: ArrayLike,
    mean_lead: ArrayLike,
    variance_lead: ArrayLike,
    cycle_demand: ArrayLike,
    lot_excess: ArrayLike = 0.0,
) -> FloatArray:
    """Smallest integer order-up-to level ``S`` meeting a fill rate for periodic review (R, S).

    Expected shortage per review cycle ``E[(D_{L+R} − S)+] − E[(D_L − S − e)+]`` (SPT eq. 7.23,
    discrete form) must not exceed ``(1 − β)·Q`` with ``Q`` the cycle demand (or lot); found by
    vectorised integer bisection (the shortage is non-increasing in ``S``). ``e = Q − d·R``
    (``lot_excess``): with a lot larger than one review's demand the stock after the previous
    receipt is ``S + e``, so the shortage carried over from it is smaller.
    """
    beta = np.atleast_1d(np.asarray(fill_rate, dtype=np.float64))
    mp = np.atleast_1d(np.asarray(mean_protection, dtype=np.float64))
    vp = np.maximum(np.atleast_1d(np.asarray(variance_protection, dtype=np.float64)), mp)
    ml = np.atleast_1d(np.asarray(mean_lead, dtype=np.float64))
    vl = np.maximum(np.atleast_1d(np.asarray(variance_lead, dtype=np.float64)), ml)
    allowed = (1.0 - beta) * np.atleast_1d(np.asarray(cycle_demand, dtype=np.float64))
    excess = np.atleast_1d(np.asarray(lot_excess, dtype=np.float64))
    beta, mp, vp, ml, vl, allowed, excess = np.broadcast_arrays(
        beta, mp, vp, ml, vl, allowed, excess
    )

    def shortage(level: FloatArray) -> FloatArray:
        above = level + excess
        lead_part = np.where(ml > 0, discrete_loss(above, ml, vl), np.maximum(-above, 0.0))
        return np.asarray(discrete_loss(level, mp, vp) - lead_part, dtype=np.float64)

    lo = np.full(mp.shape, -1.0)
    hi = np.ceil(mp + 12.0 * np.sqrt(vp) + 12.0)
    while np.any(hi - lo > 1):
        mid = np.floor(0.5 * (lo + hi))
        ok = shortage(mid) <= allowed + 1e-12
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return np.asarray(np.maximum(hi, 0.0), dtype=np.float64)
