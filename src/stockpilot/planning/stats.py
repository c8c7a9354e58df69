"""Loss functions and discrete demand distributions used by the policy formulas.

All functions are vectorised over NumPy arrays (scalars broadcast) and pure.

Notation (Snyder & Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., §C.3; Silver, Pyke &
Thomas, *Inventory and Production Management*, 4th ed., App. B):

* ``z`` — standardised level (dimensionless), φ the standard normal density, Φ its cdf.
* ``G1(z) = E[(Z − z)+] = φ(z) − z·(1 − Φ(z))`` — first-order loss (expected shortage of a
  unit-normal variable beyond ``z``), S&S eq. (C.27).
* ``Ḡ1(z) = E[(z − Z)+] = z + G1(z)`` — its complement (expected leftover).
* ``G2(z) = ½·[(z² + 1)·(1 − Φ(z)) − z·φ(z)]`` — second-order loss, S&S eq. (C.28), used for
  expected backorders of an (r, Q) policy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

__all__ = [
    "FloatArray",
    "discrete_loss",
    "discrete_quantile",
    "inverse_normal_loss",
    "inverse_normal_loss_difference",
    "negative_binomial_cdf",
    "normal_cdf",
    "normal_loss",
    "normal_loss_complement",
    "normal_pdf",
    "normal_ppf",
    "normal_second_order_loss",
    "poisson_cdf",
    "poisson_pmf",
]

_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def normal_pdf(z: ArrayLike) -> FloatArray:
    """Standard normal density φ(z)."""
    zz = np.asarray(z, dtype=np.float64)
    return np.asarray(np.exp(-0.5 * zz * zz) / _SQRT_2PI, dtype=np.float64)


def normal_cdf(z: ArrayLike) -> FloatArray:
    """Standard normal cdf Φ(z)."""
    return np.asarray(special.ndtr(np.asarray(z, dtype=np.float64)), dtype=np.float64)


def normal_ppf(p: ArrayLike) -> FloatArray:
    """Standard normal quantile Φ⁻¹(p) (the safety factor z of a cycle service level p)."""
    return np.asarray(special.ndtri(np.asarray(p, dtype=np.float64)), dtype=np.float64)


def normal_loss(z: ArrayLike) -> FloatArray:
    """First-order standard normal loss ``G1(z) = φ(z) − z·(1 − Φ(z))`` (S&S eq. C.27)."""
    zz = np.asarray(z, dtype=np.float64)
    # 1 − Φ(z) is computed as Φ(−z) to keep precision in the right tail.
    return np.asarray(normal_pdf(zz) - zz * special.ndtr(-zz), dtype=np.float64)


def normal_loss_complement(z: ArrayLike) -> FloatArray:
    """Complementary first-order loss ``Ḡ1(z) = E[(z − Z)+] = z + G1(z)``."""
    zz = np.asarray(z, dtype=np.float64)
    return np.asarray(zz + normal_loss(zz), dtype=np.float64)


def normal_second_order_loss(z: ArrayLike) -> FloatArray:
    """Second-order loss ``G2(z) = ½·[(z² + 1)·(1 − Φ(z)) − z·φ(z)]`` (S&S eq. C.28)."""
    zz = np.asarray(z, dtype=np.float64)
    return np.asarray(
        0.5 * ((zz * zz + 1.0) * special.ndtr(-zz) - zz * normal_pdf(zz)), dtype=np.float64
    )


def _bisect_decreasing(
    func: object, target: FloatArray, lo: FloatArray, hi: FloatArray, iterations: int = 200
) -> FloatArray:
    """Vectorised bisection for ``func(k) = target`` where ``func`` is decreasing in ``k``."""
    f = func  # typed as object to keep the signature simple; called below
    lo = lo.copy()
    hi = hi.copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = f(mid) > target  # type: ignore[operator]
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
        if np.all(hi - lo <= 1e-13 * np.maximum(1.0, np.abs(lo))):
            break
    return np.asarray(0.5 * (lo + hi), dtype=np.float64)


def inverse_normal_loss(g: ArrayLike) -> FloatArray:
    """Safety factor ``k`` solving ``G1(k) = g`` for ``g > 0`` (approximate type-2 service).

    ``G1`` is strictly decreasing from +∞ to 0, so the root is unique; vectorised bisection on
    ``[−g − 10, 40]`` (``G1(k) ≥ −k`` guarantees the left end lies above the target).
    """
    gg = np.atleast_1d(np.asarray(g, dtype=np.float64))
    lo = -gg - 10.0
    hi = np.full_like(gg, 40.0)
    k = _bisect_decreasing(normal_loss, gg, lo, hi)
    return k.reshape(np.shape(g))


def inverse_normal_loss_difference(g: ArrayLike, q: ArrayLike) -> FloatArray:
    """Safety factor ``k`` solving ``G1(k) − G1(k + q) = g`` (exact type-2 service, (r, Q)).

    ``q = Q/σ`` is the standardised order quantity. The left side decreases from ``q`` to 0, so a
    root exists for ``0 < g < q`` (i.e. any fill rate below 1).
    """
    gg, qq = np.broadcast_arrays(
        np.atleast_1d(np.asarray(g, dtype=np.float64)),
        np.atleast_1d(np.asarray(q, dtype=np.float64)),
    )

    def lhs(k: FloatArray) -> FloatArray:
        return np.asarray(normal_loss(k) - normal_loss(k + qq), dtype=np.float64)

    lo = -gg - qq - 40.0
    hi = np.full_like(gg, 40.0)
    k = _bisect_decreasing(lhs, gg, lo, hi)
    return k.reshape(np.broadcast_shapes(np.shape(g), np.shape(q)))


def poisson_pmf(k: ArrayLike, mean: ArrayLike) -> FloatArray:
    """Poisson probability ``P(D = k)`` for mean ``mean`` (0 for negative ``k``)."""
    kk = np.asarray(k, dtype=np.float64)
    mm = np.asarray(mean, dtype=np.float64)
    safe_k = np.maximum(kk, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = special.xlogy(safe_k, mm) - mm - special.gammaln(safe_k + 1.0)
    return np.asarray(np.where(kk < 0, 0.0, np.exp(logp)), dtype=np.float64)


def poisson_cdf(k: ArrayLike, mean: ArrayLike) -> FloatArray:
    """Poisson cdf ``F(k) = P(D ≤ k)`` (0 for ``k < 0``); ``k`` is floored."""
    kk = np.floor(np.asarray(k, dtype=np.float64))
    mm = np.asarray(mean, dtype=np.float64)
    out = special.pdtr(np.maximum(kk, 0.0), mm)
    return np.asarray(np.where(kk < 0, 0.0, out), dtype=np.float64)


def negative_binomial_cdf(k: ArrayLike, mean: ArrayLike, variance: ArrayLike) -> FloatArray:
    """Negative binomial cdf parameterised by mean ``m`` and variance ``v > m``.

    With success probability ``p = m/v`` and size ``r = m²/(v − m)``,
    ``F(k) = I_p(r, k + 1)`` (regularised incomplete beta). Where ``v ≤ m`` the Poisson cdf with
    mean ``m`` is returned (the variance cannot be below the mean for this family).
    """
    kk = np.floor(np.asarray(k, dtype=np.float64))
    mm = np.asarray(mean, dtype=np.float64)
    vv = np.asarray(variance, dtype=np.float64)
    overdispersed = vv > mm * (1.0 + 1e-9)
    safe_v = np.where(overdispersed, vv, mm * 2.0 + 1.0)
    p = np.where(mm > 0, mm / safe_v, 1.0)
    r = np.where(mm > 0, mm * mm / np.maximum(safe_v - mm, 1e-300), 1.0)
    nb = special.betainc(np.maximum(r, 1e-300), np.maximum(kk, 0.0) + 1.0, p)
    out = np.where(overdispersed, nb, poisson_cdf(kk, mm))
    return np.asarray(np.where(kk < 0, 0.0, out), dtype=np.float64)


def discrete_quantile(
    probability: ArrayLike, mean: ArrayLike, variance: ArrayLike | None = None
) -> FloatArray:
    """Smallest integer ``s ≥ 0`` with ``F(s) ≥ probability`` (Poisson, or NB when over-dispersed).

    Vectorised integer bisection on ``[0, m + 12·√v + 12]``.
    """
    pp = np.atleast_1d(np.asarray(probability, dtype=np.float64))
    mm = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    vv = mm if variance is None else np.atleast_1d(np.asarray(variance, dtype=np.float64))
    pp, mm, vv = np.broadcast_arrays(pp, mm, vv)

    def cdf(k: FloatArray) -> FloatArray:
        return negative_binomial_cdf(k, mm, vv)

    lo = np.full(pp.shape, -1.0)  # cdf(lo) < p (cdf(-1) = 0)
    hi = np.ceil(mm + 12.0 * np.sqrt(np.maximum(vv, mm)) + 12.0)
    while True:
        not_enough = cdf(hi) < pp
        if not np.any(not_enough):
            break
        hi = np.where(not_enough, hi * 2.0 + 1.0, hi)
    while np.any(hi - lo > 1):
        mid = np.floor(0.5 * (lo + hi))
        ok = cdf(mid) >= pp
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi


def discrete_loss(
    level: ArrayLike, mean: ArrayLike, variance: ArrayLike | None = None
) -> FloatArray:
    """Expected shortage ``E[(D − y)+]`` of an integer demand ``D`` (Poisson or NB) at level ``y``.

    Closed form ``E[(D − y)+] = E[D·1{D ≥ y}] − y·P(D ≥ y)``. For Poisson(μ),
    ``E[D·1{D ≥ y}] = μ·(1 − F(y − 2))``; for NB(r, p) it is ``m·(1 − F_{r+1}(y − 2))`` where
    ``F_{r+1}`` is the NB cdf with size ``r + 1`` and the same ``p``. Negative ``y`` gives
    ``m − y``.
    """
    yy = np.floor(np.atleast_1d(np.asarray(level, dtype=np.float64)))
    mm = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    vv = mm if variance is None else np.atleast_1d(np.asarray(variance, dtype=np.float64))
    yy, mm, vv = np.broadcast_arrays(yy, mm, vv)
    overdispersed = vv > mm * (1.0 + 1e-9)
    safe_v = np.where(overdispersed, vv, mm * 2.0 + 1.0)
    p = np.where(mm > 0, mm / safe_v, 1.0)
    r = np.where(mm > 0, mm * mm / np.maximum(safe_v - mm, 1e-300), 1.0)

    def nb_cdf(k: FloatArray, size: FloatArray) -> FloatArray:
        out = special.betainc(np.maximum(size, 1e-300), np.maximum(k, 0.0) + 1.0, p)
        return np.asarray(np.where(k < 0, 0.0, out), dtype=np.float64)

    tail_mass = np.where(
        overdispersed, 1.0 - nb_cdf(yy - 2.0, r + 1.0), 1.0 - poisson_cdf(yy - 2.0, mm)
    )
    tail_prob = np.where(overdispersed, 1.0 - nb_cdf(yy - 1.0, r), 1.0 - poisson_cdf(yy - 1.0, mm))
    loss = mm * tail_mass - yy * tail_prob
    return np.asarray(np.where(yy < 0, mm - yy, np.maximum(loss, 0.0)), dtype=np.float64)
