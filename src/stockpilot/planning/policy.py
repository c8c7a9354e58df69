"""Inventory policies under normal demand, lot sizes and order rounding (vectorised).

Conventions (stated once, used everywhere in :mod:`stockpilot.planning`):

* Demand ``d`` (mean) and ``σd`` (standard deviation) are **per period**; lead time ``L``, its
  standard deviation ``σL`` and the review period ``R`` are **in periods**. Quantities are in
  item units. Costs: ``h`` holding cost per unit per period (or per time unit of ``d``), ``p``
  backorder (stockout) cost per unit per period, ``K`` fixed cost per order.
* Protection interval: an order placed now arrives after ``L`` periods and the next chance to
  order is ``R`` periods later, so safety stock protects the demand over ``L + R`` periods.
  ``R = 0`` is continuous review (reorder point); ``R > 0`` periodic review (order-up-to).
* Stockpyl's base-stock/newsvendor functions protect over ``L + 1`` periods (a period-based model
  with review every period); :func:`base_stock_normal` follows that convention explicitly.
* A negative safety stock is legitimate for a fill-rate target with large orders.

References: Silver, Pyke & Thomas (SPT), *Inventory and Production Management in Supply Chains*,
4th ed., ch. 6–7; Snyder & Shen (S&S), *Fundamentals of Supply Chain Theory*, 2nd ed., ch. 3–5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stockpilot.planning.stats import (
    ArrayLike,
    FloatArray,
    inverse_normal_loss,
    inverse_normal_loss_difference,
    normal_cdf,
    normal_loss,
    normal_pdf,
    normal_ppf,
    normal_second_order_loss,
)

__all__ = [
    "RQInputs",
    "RQResult",
    "base_stock_normal",
    "cap_by_capacity",
    "economic_order_quantity",
    "economic_order_quantity_with_backorders",
    "fill_rate_safety_factor",
    "fill_rate_with_safety_factor",
    "newsvendor_normal",
    "protection_sigma",
    "round_order_quantity",
    "rq_cost_normal",
    "rq_eil_approximation",
    "rq_eil_cost",
    "rq_eoqb_approximation",
    "rq_eoqss_approximation",
    "rq_expected_backorders",
    "rq_fill_rate",
    "rq_loss_function_approximation",
    "rq_optimal_r_for_q",
    "rs_fill_rate_level_normal",
    "safety_stock",
    "ss_power_approximation",
]


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def protection_sigma(
    demand_sd: ArrayLike,
    demand_mean: ArrayLike,
    lead_time: ArrayLike,
    lead_time_sd: ArrayLike = 0.0,
    review_period: ArrayLike = 0.0,
) -> FloatArray:
    """Standard deviation of demand over the protection interval ``L + R`` (SPT eq. 6.7).

    ``σ_{L+R} = √((L + R)·σd² + d²·σL²)`` — independent per-period demands and a random lead
    time independent of demand. Units: item units.
    """
    horizon = _f(lead_time) + _f(review_period)
    variance = horizon * _f(demand_sd) ** 2 + _f(demand_mean) ** 2 * _f(lead_time_sd) ** 2
    return np.asarray(np.sqrt(np.maximum(variance, 0.0)), dtype=np.float64)


def safety_stock(
    cycle_service_level: ArrayLike,
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
    lead_time: ArrayLike,
    lead_time_sd: ArrayLike = 0.0,
    review_period: ArrayLike = 0.0,
) -> FloatArray:
    """Safety stock for a cycle service level: ``SS = z·√((L + R)·σd² + d²·σL²)``.

    ``z = Φ⁻¹(CSL)`` (SPT §6.7.2 and eq. 6.7). The reorder point (``R = 0``) or order-up-to
    level (``R > 0``) is then ``d·(L + R) + SS``.

    >>> round(float(safety_stock(0.9, 20.0, 5.0, 5.0)), 6)
    14.328182
    """
    z = normal_ppf(cycle_service_level)
    return np.asarray(
        z * protection_sigma(demand_sd, demand_mean, lead_time, lead_time_sd, review_period),
        dtype=np.float64,
    )


def fill_rate_safety_factor(
    fill_rate: ArrayLike, order_quantity: ArrayLike, sigma: ArrayLike, exact: bool = True
) -> FloatArray:
    """Safety factor ``k`` for a type-2 (fill-rate) target ``β`` (SPT eq. 7.17–7.18).

    Expected shortage per replenishment cycle equals ``(1 − β)·Q``:

    * approximate: ``G1(k) = (1 − β)·Q/σ``;
    * exact (continuous (r, Q), inventory position uniform on ``[r, r + Q]``):
      ``G1(k) − G1(k + Q/σ) = (1 − β)·Q/σ``.

    ``σ`` is the standard deviation over the protection interval (``σL`` for (r, Q), ``σ_{L+R}``
    for (R, S) with ``Q → d·R``). Safety stock is ``k·σ``.
    """
    q = _f(order_quantity)
    s = _f(sigma)
    target = (1.0 - _f(fill_rate)) * q / s
    if exact:
        return inverse_normal_loss_difference(target, q / s)
    return inverse_normal_loss(target)


def fill_rate_with_safety_factor(
    k: ArrayLike, order_quantity: ArrayLike, sigma: ArrayLike, exact: bool = True
) -> FloatArray:
    """Fill rate implied by safety factor ``k``: ``β = 1 − σ·[G1(k) − G1(k + Q/σ)]/Q``."""
    q = _f(order_quantity)
    s = _f(sigma)
    shortage = normal_loss(k)
    if exact:
        shortage = shortage - normal_loss(_f(k) + q / s)
    return np.asarray(1.0 - s * shortage / q, dtype=np.float64)


def rs_fill_rate_level_normal(
    fill_rate: ArrayLike,
    mean_protection: ArrayLike,
    sd_protection: ArrayLike,
    mean_lead: ArrayLike,
    sd_lead: ArrayLike,
    order_quantity: ArrayLike,
    lot_excess: ArrayLike = 0.0,
) -> FloatArray:
    """Order-up-to level ``S`` of a periodic review (R, S) policy meeting fill rate ``β`` exactly.

    Expected shortage per review cycle (backorders, SPT eq. 7.23 with normal demand):
    ``σ_{L+R}·G1((S − μ_{L+R})/σ_{L+R}) − σ_L·G1((S − μ_L)/σ_L) = (1 − β)·Q`` with ``Q`` the
    demand of one cycle (or the lot size when larger). Shortage already open when the previous
    order arrives is not charged to this cycle, which the approximate ``G1(k) = (1 − β)·Q/σ``
    ignores — hence the approximation's bias at low ``Q/σ``. Vectorised bisection; ``σ_L = 0``
    means no lead part. ``lot_excess`` ``e = Q − d·R``: a lot larger than one review's demand
    leaves ``S + e`` after the previous receipt, so the carried-over part is evaluated at
    ``S + e`` (``e = 0`` is the (R, S) policy).
    """
    beta = np.atleast_1d(_f(fill_rate))
    mp, sp, ml, sl, q, excess = np.broadcast_arrays(
        np.atleast_1d(_f(mean_protection)),
        np.atleast_1d(np.maximum(_f(sd_protection), 1e-12)),
        np.atleast_1d(_f(mean_lead)),
        np.atleast_1d(_f(sd_lead)),
        np.atleast_1d(_f(order_quantity)),
        np.atleast_1d(_f(lot_excess)),
    )
    allowed = (1.0 - beta) * q
    safe_sl = np.maximum(sl, 1e-12)

    def shortage(level: FloatArray) -> FloatArray:
        above = level + excess
        lead = np.where(
            sl > 0, safe_sl * normal_loss((above - ml) / safe_sl), np.maximum(ml - above, 0.0)
        )
        return np.asarray(sp * normal_loss((level - mp) / sp) - lead, dtype=np.float64)

    lo = np.minimum(ml, mp) - 40.0 * sp - q
    hi = mp + 40.0 * sp
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        ok = shortage(mid) <= allowed
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
        if np.all(hi - lo <= 1e-6 * np.maximum(1.0, np.abs(hi))):
            break
    return np.asarray(hi, dtype=np.float64)


def base_stock_normal(
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
    lead_time: ArrayLike,
    holding_cost: ArrayLike,
    stockout_cost: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Optimal base-stock level with normal demand (S&S eq. 4.35 and Thm 4.2).

    Protection over ``L + 1`` periods: ``μ_p = d·(L + 1)``, ``σ_p = σd·√(L + 1)``; critical ratio
    ``p/(p + h)``; ``S* = μ_p + z·σ_p`` with ``z = Φ⁻¹(p/(p + h))``; expected cost per period
    ``g(S*) = (h + p)·σ_p·φ(z)``. Returns ``(S*, safety stock z·σ_p, cost)``.
    """
    horizon = _f(lead_time) + 1.0
    mu = _f(demand_mean) * horizon
    sigma = _f(demand_sd) * np.sqrt(horizon)
    h = _f(holding_cost)
    p = _f(stockout_cost)
    z = normal_ppf(p / (p + h))
    cost = (h + p) * sigma * normal_pdf(z)
    return mu + z * sigma, z * sigma, np.asarray(cost, dtype=np.float64)


def newsvendor_normal(
    holding_cost: ArrayLike,
    stockout_cost: ArrayLike,
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
    lead_time: ArrayLike = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Newsvendor with normal demand (S&S eq. 4.24): ``S* = μ + σ·Φ⁻¹(p/(p + h))`` and cost.

    With ``lead_time`` this is the base-stock problem over ``L + 1`` periods.

    >>> s, c = newsvendor_normal(0.18, 0.70, 50, 8)
    >>> round(float(s), 6), round(float(c), 6)
    (56.603956, 1.997605)
    """
    s, _, cost = base_stock_normal(demand_mean, demand_sd, lead_time, holding_cost, stockout_cost)
    return s, cost


def economic_order_quantity(
    fixed_cost: ArrayLike, holding_cost: ArrayLike, demand_rate: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """EOQ (S&S eq. 3.4–3.5): ``Q* = √(2Kλ/h)``, cost per unit time ``g* = √(2Kλh)``.

    >>> q, g = economic_order_quantity(8, 0.225, 1300)
    >>> round(float(q), 6), round(float(g), 6)
    (304.04678, 68.410526)
    """
    k, h, lam = _f(fixed_cost), _f(holding_cost), _f(demand_rate)
    return np.sqrt(2.0 * k * lam / h), np.sqrt(2.0 * k * lam * h)


def economic_order_quantity_with_backorders(
    fixed_cost: ArrayLike, holding_cost: ArrayLike, stockout_cost: ArrayLike, demand_rate: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """EOQ with planned backorders (S&S eq. 3.27–3.29).

    ``Q* = √(2Kλ(h + p)/(hp))``, backordered fraction ``x* = h/(h + p)``,
    ``g* = √(2Kλhp/(h + p))``.
    """
    k, h, p, lam = _f(fixed_cost), _f(holding_cost), _f(stockout_cost), _f(demand_rate)
    q = np.sqrt(2.0 * k * lam * (h + p) / (h * p))
    return q, h / (h + p), np.sqrt(2.0 * k * lam * h * p / (h + p))


def _ltd(
    demand_mean: ArrayLike, demand_sd: ArrayLike, lead_time: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    lt = _f(lead_time)
    return _f(demand_mean) * lt, _f(demand_sd) * np.sqrt(lt)


def rq_expected_backorders(
    r: ArrayLike, q: ArrayLike, ltd_mean: ArrayLike, ltd_sd: ArrayLike
) -> FloatArray:
    """Expected backorders of (r, Q): ``B = σ²·[G2(z_r) − G2(z_{r+Q})]/Q`` (S&S eq. 5.38)."""
    mu, sd, rr, qq = _f(ltd_mean), _f(ltd_sd), _f(r), _f(q)
    g2 = normal_second_order_loss((rr - mu) / sd) - normal_second_order_loss((rr + qq - mu) / sd)
    return np.asarray(sd * sd * g2 / qq, dtype=np.float64)


def rq_fill_rate(
    r: ArrayLike, q: ArrayLike, ltd_mean: ArrayLike, ltd_sd: ArrayLike, exact: bool = True
) -> FloatArray:
    """Fill rate of (r, Q): ``1 − σ·[G1(z_r) − G1(z_{r+Q})]/Q`` (exact) or ``1 − σ·G1(z_r)/Q``."""
    mu, sd = _f(ltd_mean), _f(ltd_sd)
    k = (_f(r) - mu) / sd
    return fill_rate_with_safety_factor(k, q, sd, exact=exact)


def rq_cost_normal(r: ArrayLike, q: ArrayLike, inputs: RQInputs) -> FloatArray:
    """Exact expected cost per unit time of (r, Q) with normal lead-time demand (S&S eq. 5.7).

    ``g(r, Q) = [Kλ + ∫_r^{r+Q} g(y) dy]/Q`` with ``g(y) = h·(y − μ) + (h + p)·n(y)``, which
    integrates to ``[Kλ + h·Q·(r − μ + Q/2) + (h + p)·σ²·(G2(z_r) − G2(z_{r+Q}))]/Q``.
    ``μ = λL`` and ``σ = σd·√L`` (inventory position uniform on ``[r, r + Q]``).
    """
    mu, sd = inputs.lead_time_demand()
    rr, qq, h, p = _f(r), _f(q), _f(inputs.holding_cost), _f(inputs.stockout_cost)
    lam, k = _f(inputs.demand_mean), _f(inputs.fixed_cost)
    backorder_area = (
        sd
        * sd
        * (normal_second_order_loss((rr - mu) / sd) - normal_second_order_loss((rr + qq - mu) / sd))
    )
    total = k * lam + h * qq * (rr - mu + qq / 2.0) + (h + p) * backorder_area
    return np.asarray(total / qq, dtype=np.float64)


def rq_eil_cost(r: ArrayLike, q: ArrayLike, inputs: RQInputs) -> FloatArray:
    """Expected-inventory-level approximation of the cost (S&S eq. 5.16).

    ``g̃(r, Q) = h·(r − λL + Q/2) + (Kλ + pλ·n(r))/Q`` with ``n(r) = σ·G1(z_r)``.
    """
    mu, sd = inputs.lead_time_demand()
    rr, qq, h, p = _f(r), _f(q), _f(inputs.holding_cost), _f(inputs.stockout_cost)
    lam, k = _f(inputs.demand_mean), _f(inputs.fixed_cost)
    n_r = sd * normal_loss((rr - mu) / sd)
    return np.asarray(h * (rr - mu + qq / 2.0) + (k * lam + p * lam * n_r) / qq, dtype=np.float64)


@dataclass(frozen=True)
class RQInputs:
    """The costs and demand of an (r, Q) policy with normal lead-time demand (S&S ch. 5).

    ``holding_cost`` ``h`` per unit per time unit, ``stockout_cost`` ``p`` per unit backordered,
    ``fixed_cost`` ``K`` per order; ``demand_mean`` ``λ`` and ``demand_sd`` ``σd`` per time unit;
    ``lead_time`` ``L`` in time units (``μ = λL``, ``σ = σd·√L``). Scalars or arrays.
    """

    holding_cost: ArrayLike
    stockout_cost: ArrayLike
    fixed_cost: ArrayLike
    demand_mean: ArrayLike
    demand_sd: ArrayLike
    lead_time: ArrayLike

    def lead_time_demand(self) -> tuple[FloatArray, FloatArray]:
        """``(μ, σ)`` of lead-time demand."""
        return _ltd(self.demand_mean, self.demand_sd, self.lead_time)


@dataclass(frozen=True)
class RQResult:
    """An (r, Q) policy: reorder point ``r`` and order quantity ``Q`` (item units)."""

    reorder_point: FloatArray
    order_quantity: FloatArray


def _fixed_point(update: object, q0: FloatArray, iterations: int = 500) -> FloatArray:
    q = q0
    for _ in range(iterations):
        q_new = update(q)  # type: ignore[operator]
        if np.all(np.abs(q_new - q) <= 1e-13 * np.maximum(1.0, np.abs(q))):
            return np.asarray(q_new, dtype=np.float64)
        q = q_new
    return np.asarray(q, dtype=np.float64)


def rq_eil_approximation(inputs: RQInputs) -> RQResult:
    """(r, Q) by the expected-inventory-level approximation, iterated to a fixed point.

    First-order conditions of :func:`rq_eil_cost` (S&S eq. 5.17–5.18):
    ``Q = √(2λ·(K + p·n(r))/h)`` and ``1 − Φ(z_r) = Q·h/(p·λ)``; start at the EOQ.
    """
    mu, sd = inputs.lead_time_demand()
    h, p, k, lam = (
        _f(inputs.holding_cost),
        _f(inputs.stockout_cost),
        _f(inputs.fixed_cost),
        _f(inputs.demand_mean),
    )

    def r_of(q: FloatArray) -> FloatArray:
        return np.asarray(mu + sd * normal_ppf(1.0 - q * h / (p * lam)), dtype=np.float64)

    def update(q: FloatArray) -> FloatArray:
        n_r = sd * normal_loss((r_of(q) - mu) / sd)
        return np.asarray(np.sqrt(2.0 * lam * (k + p * n_r) / h), dtype=np.float64)

    q = _fixed_point(update, economic_order_quantity(k, h, lam)[0])
    return RQResult(r_of(q), q)


def rq_eoqb_approximation(inputs: RQInputs) -> RQResult:
    """(r, Q) with ``Q`` from the EOQ with backorders and ``r`` from the exact shortage.

    The expected shortage per cycle ``σ·[G1(z_r) − G1(z_{r+Q})]`` equals the EOQB planned
    backorders ``x*·Q`` with ``x* = h/(h + p)`` (S&S §5.2.4), i.e. an exact fill rate of
    ``p/(h + p)``.
    """
    mu, sd = inputs.lead_time_demand()
    h, p = _f(inputs.holding_cost), _f(inputs.stockout_cost)
    q, x, _ = economic_order_quantity_with_backorders(inputs.fixed_cost, h, p, inputs.demand_mean)
    r = mu + sd * inverse_normal_loss_difference(x * q / sd, q / sd)
    return RQResult(np.asarray(r, dtype=np.float64), q)


def rq_eoqss_approximation(inputs: RQInputs) -> RQResult:
    """(r, Q) with ``Q = EOQ`` and ``r = μ + σ·Φ⁻¹(p/(p + h))`` (EOQ + safety stock, S&S §5.2.4)."""
    mu, sd = inputs.lead_time_demand()
    h, p = _f(inputs.holding_cost), _f(inputs.stockout_cost)
    q, _ = economic_order_quantity(inputs.fixed_cost, h, inputs.demand_mean)
    return RQResult(np.asarray(mu + sd * normal_ppf(p / (p + h)), dtype=np.float64), q)


def rq_loss_function_approximation(inputs: RQInputs) -> RQResult:
    """(r, Q) minimising the loss-function approximation of the cost (S&S §5.2.3).

    Dropping ``G2(z_{r+Q})`` from :func:`rq_cost_normal` gives
    ``g̃ = h·(r − μ + Q/2) + [Kλ + (h + p)·σ²·G2(z_r)]/Q``; its first-order conditions are
    ``σ·G1(z_r) = Q·h/(h + p)`` and ``Q = √(2·[Kλ + (h + p)·σ²·G2(z_r)]/h)``, iterated from the
    EOQ to a fixed point.
    """
    mu, sd = inputs.lead_time_demand()
    h, p, k, lam = (
        _f(inputs.holding_cost),
        _f(inputs.stockout_cost),
        _f(inputs.fixed_cost),
        _f(inputs.demand_mean),
    )

    def r_of(q: FloatArray) -> FloatArray:
        return np.asarray(mu + sd * inverse_normal_loss(q * h / ((h + p) * sd)), dtype=np.float64)

    def update(q: FloatArray) -> FloatArray:
        g2 = sd * sd * normal_second_order_loss((r_of(q) - mu) / sd)
        return np.asarray(np.sqrt(2.0 * (k * lam + (h + p) * g2) / h), dtype=np.float64)

    q = _fixed_point(update, economic_order_quantity(k, h, lam)[0])
    return RQResult(r_of(q), q)


def rq_optimal_r_for_q(q: ArrayLike, inputs: RQInputs) -> FloatArray:
    """Optimal ``r`` for a given ``Q`` under the exact cost: solves ``g(r) = g(r + Q)``.

    ``g(y) = h·(y − μ) + (h + p)·σ·G1((y − μ)/σ)`` is convex, so ``g(r + Q) − g(r)`` increases in
    ``r``; vectorised bisection (S&S eq. 5.9).
    """
    mu, sd = inputs.lead_time_demand()
    qq, h, p = _f(q), _f(inputs.holding_cost), _f(inputs.stockout_cost)

    def g(y: FloatArray) -> FloatArray:
        return np.asarray(
            h * (y - mu) + (h + p) * sd * normal_loss((y - mu) / sd), dtype=np.float64
        )

    lo = np.atleast_1d(mu - qq - 40.0 * sd)
    hi = np.atleast_1d(mu + 40.0 * sd + 0.0 * qq)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        increasing = g(mid + qq) - g(mid) > 0
        hi = np.where(increasing, mid, hi)
        lo = np.where(increasing, lo, mid)
    out = 0.5 * (lo + hi)
    return out if np.ndim(q) else np.asarray(out[0], dtype=np.float64)


def ss_power_approximation(
    holding_cost: ArrayLike,
    stockout_cost: ArrayLike,
    fixed_cost: ArrayLike,
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """(s, S) by the power approximation (Ehrhardt & Mosier 1984; S&S §4.5.3), zero lead time.

    ``Q_p = 1.30·μ^0.494·(K/h)^0.506·(1 + σ²/μ²)^0.116``, ``z = √(Q_p·h/(σ·p))``,
    ``s_p = 0.973·μ + σ·(0.183/z + 1.063 − 2.192·z)``. If ``Q_p/σ > 1.5``: ``(s, S) =
    (s_p, s_p + Q_p)``; otherwise both are capped by the newsvendor level
    ``S₀ = μ + σ·Φ⁻¹(p/(p + h))``.
    """
    h, p, k = _f(holding_cost), _f(stockout_cost), _f(fixed_cost)
    mu, sd = _f(demand_mean), _f(demand_sd)
    q_p = 1.30 * mu**0.494 * (k / h) ** 0.506 * (1.0 + sd**2 / mu**2) ** 0.116
    z = np.sqrt(q_p * h / (sd * p))
    s_p = 0.973 * mu + sd * (0.183 / z + 1.063 - 2.192 * z)
    s0 = mu + sd * normal_ppf(p / (p + h))
    large = q_p / sd > 1.5
    s = np.where(large, s_p, np.minimum(s_p, s0))
    big_s = np.where(large, s_p + q_p, np.minimum(s_p + q_p, s0))
    return np.asarray(s, dtype=np.float64), np.asarray(big_s, dtype=np.float64)


def round_order_quantity(
    quantity: ArrayLike, moq: ArrayLike = 0.0, pack_size: ArrayLike = 1.0
) -> FloatArray:
    """Round a positive order quantity up to the minimum order quantity and the pack size.

    ``Q' = ⌈max(Q, MOQ)/pack⌉·pack`` for ``Q > 0``; zero stays zero. The result is a multiple of
    the pack size and at least the MOQ (a MOQ that is not a pack multiple is rounded up to one).
    A pack size ≤ 0 means "no pack constraint".
    """
    qq = np.maximum(_f(quantity), 0.0)
    pack = np.where(_f(pack_size) > 0, _f(pack_size), 1.0)
    raised = np.maximum(qq, np.maximum(_f(moq), 0.0))
    # Subtracting a tiny relative epsilon keeps exact multiples from rounding up a whole pack.
    packs = np.ceil(raised / pack - 1e-9)
    return np.asarray(np.where(qq > 0, packs * pack, 0.0), dtype=np.float64)


def cap_by_capacity(
    order_up_to: ArrayLike, capacity: ArrayLike, pack_size: ArrayLike = 1.0
) -> tuple[FloatArray, np.ndarray]:
    """Cap an order-up-to level by storage capacity, rounded down to whole packs.

    Returns ``(capped level, capped flag)``. A capacity that is NaN or ≤ 0 means "unlimited".
    """
    level = _f(order_up_to)
    cap = _f(capacity)
    pack = np.where(_f(pack_size) > 0, _f(pack_size), 1.0)
    limited = np.isfinite(cap) & (cap > 0)
    cap_packs = np.floor(np.where(limited, cap, 0.0) / pack + 1e-9) * pack
    capped = limited & (level > cap_packs)
    return np.asarray(np.where(capped, cap_packs, level), dtype=np.float64), capped


_ = normal_cdf  # re-exported helper kept for callers computing type-1 service
