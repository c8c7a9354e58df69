"""What the engine's forecast gets wrong over the protection interval, measured out of sample.

The stock must cover the demand of the next ``H = L + R`` periods. The error that matters is the
error of the ``H``-period cumulative forecast, measured at many rolling origins ``t`` where the
forecast was made from the periods before ``t`` only:

    e_t = Σ_{i<H} y_{t+i} − F_t(H)

(:func:`stockpilot.planning.empirical.horizon_errors`). From those errors, per series:

* **weights** — recent origins count more: origin ``t`` has weight ``2^{−(T_last − t)/h}`` for
  a half-life ``h`` in periods, because a series' error grows and shrinks with its level (a
  retail series that tripled over 30 years made small errors in its first decade);
* **bias** ``b = Σ w·e / Σ w`` — the mean error at that horizon; the protection demand is
  ``F(H) + b``, so a method that runs behind a trend is corrected, not ignored;
* **sigma** ``σ_H = √(Σ w·(e − b)² / Σ w)`` — the spread around the corrected forecast;
* **shrinkage** — with ``n_eff = (Σw)²/Σw²`` effective origins, a series' relative error
  ``σ_H / F(H)`` (series forecast well above zero) is shrunk toward its segment's median with
  ``prior`` pseudo-origins, and its bias toward zero:
  ``x = (n_eff·x_own + prior·x_segment) / (n_eff + prior)``. A series with fewer than
  ``min_origins`` origins gets the segment's relative error outright; one measured in absolute
  units keeps its own σ, or none (NaN: the engine falls back to its formulas).

Every function is columnar: ``(n, T)`` error matrices with NaN where no origin exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from stockpilot.planning.stats import FloatArray

__all__ = ["HorizonErrorStats", "horizon_error_stats", "origin_weights"]


@dataclass(frozen=True)
class HorizonErrorStats:
    """Per series: ``bias`` and ``sigma`` of the ``H``-period errors (item units over ``H``
    periods, after shrinkage), ``origins`` (effective number of origins, 0 where none) and
    ``own`` (True where the series had ``min_origins`` origins of its own); ``lead_sigma``: the
    same σ over the lead time alone, where measured; ``relative``: rows whose errors were
    measured relative to the level."""

    bias: FloatArray
    sigma: FloatArray
    origins: FloatArray
    own: npt.NDArray[np.bool_]
    lead_sigma: FloatArray | None = None
    relative: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))


def origin_weights(valid: npt.NDArray[np.bool_], half_life: float) -> FloatArray:
    """Weights ``2^{−age/h}`` of the valid origins, age counted back from each row's last one.

    >>> origin_weights(np.array([[True, True, False]]), 1.0).tolist()
    [[0.5, 1.0, 0.0]]
    """
    t_len = valid.shape[1]
    index = np.arange(t_len)[None, :]
    last = np.where(valid, index, -1).max(axis=1, keepdims=True)
    age = last - index
    if not np.isfinite(half_life) or half_life <= 0:
        weights = np.ones(valid.shape)
    else:
        weights = np.exp2(-np.maximum(age, 0) / half_life)
    return np.asarray(np.where(valid, weights, 0.0), dtype=np.float64)


def _weighted(errors: FloatArray, half_life: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    valid = np.isfinite(errors)
    w = origin_weights(valid, half_life)
    total = w.sum(axis=1)
    e = np.where(valid, errors, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        bias = (w * e).sum(axis=1) / total
        var = (w * (e - bias[:, None]) ** 2).sum(axis=1) / total
        n_eff = np.where(total > 0, total**2 / (w * w).sum(axis=1), 0.0)
    return np.nan_to_num(bias), np.nan_to_num(var), np.nan_to_num(n_eff)


def _segment_median(
    values: FloatArray, groups: npt.NDArray[np.int64], ok: npt.NDArray[np.bool_]
) -> FloatArray:
    """Per row, the median of ``values`` over the ``ok`` rows of its group (NaN if none)."""
    out = np.full(values.shape, np.nan)
    for g in np.unique(groups):
        members = groups == g
        pool = values[members & ok & np.isfinite(values)]
        if pool.size:
            out[members] = float(np.median(pool))
    return out


def horizon_error_stats(
    errors: FloatArray,
    forecast_h: FloatArray,
    groups: npt.NDArray[np.int64],
    min_origins: int,
    half_life: float,
    prior: float,
    relative: npt.NDArray[np.bool_] | None = None,
) -> HorizonErrorStats:
    """Bias and σ of the ``H``-period errors per series (see the module docstring).

    ``forecast_h``: the current ``H``-period forecast ``F(H)`` per series (the scale of the
    segment's relative error); ``groups``: segment per series (e.g. demand class codes).
    ``relative`` rows hold errors already divided by the forecast they were made against
    (``e_t / F_t(H)``): their bias and σ are relative and scaled by today's ``F(H)``, because a
    seasonal or growing series errs in proportion to its level.

    Absolute errors (the default): a series with too few origins has no σ of its own (NaN).

    >>> e = np.array([[1.0, -1.0, 1.0, -1.0], [np.nan, np.nan, np.nan, 2.0]])
    >>> st = horizon_error_stats(e, np.array([10.0, 20.0]), np.array([0, 0]), 4, np.inf, 0.0)
    >>> st.bias.tolist(), st.sigma.tolist(), st.own.tolist()
    ([0.0, 0.0], [1.0, nan], [True, False])

    Relative errors: the short series takes its segment's relative σ (10 %) at its own level.

    >>> rel = np.array([True, True])
    >>> f = np.array([30.0, 20.0])
    >>> st = horizon_error_stats(e / 10, f, np.array([0, 0]), 4, np.inf, 0.0, rel)
    >>> st.sigma.round(6).tolist()
    [3.0, 2.0]
    """
    n = errors.shape[0]
    relative = np.zeros(n, dtype=bool) if relative is None else relative
    bias, var, n_eff = _weighted(errors, half_life)
    count = np.isfinite(errors).sum(axis=1)
    own = count >= min_origins
    sd = np.sqrt(var)
    # Only errors relative to the level pool across series: an absolute error of one series says
    # nothing about another's, and a relative one of an item forecast near zero is noise.
    seg_rel = _segment_median(sd, groups, own & relative)
    weight_own = np.where(own, n_eff / np.maximum(n_eff + prior, 1e-12), 0.0)
    shrunk = weight_own * sd + (1.0 - weight_own) * np.nan_to_num(seg_rel)
    pooled = relative & np.isfinite(seg_rel)
    sigma = np.where(
        relative,
        np.where(pooled, shrunk, np.where(own, sd, np.nan)) * forecast_h,
        np.where(own, sd, np.nan),
    )
    bias_units = np.where(relative, bias * forecast_h, bias)
    return HorizonErrorStats(
        bias=np.where(own, weight_own * bias_units, 0.0),
        sigma=np.asarray(sigma, dtype=np.float64),
        origins=n_eff,
        own=own,
        relative=relative,
    )
