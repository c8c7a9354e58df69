"""Does the engine's promise hold on this history? Calibration of a re-planned replay.

Every plan states, per item-location, the demand it protects over the next ``H = L + R``
periods (``demand_over_protection``, ``F``) and its σ (``sigma_over_protection``). At every
period ``t`` of a replay the plan in force was made from the periods before ``t``; the demand of
periods ``t … t + H − 1`` is what it had to cover. Per demand class the report counts the
protection periods whose demand exceeded ``F + k·σ`` for ``k = 0, 1, 1.645`` against what the
normal promises (``1 − Φ(k)``: 50 %, 15.9 %, 5 %), next to the replay's fill rate and stock
(median over series of average on-hand ÷ average demand per period). A share far above the
promise means the stated σ is too small (stock too low for the target); far below, too large.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stockpilot.planning.stats import FloatArray, normal_cdf

__all__ = ["K_VALUES", "calibration_by_class", "standardised_errors"]

K_VALUES = (0.0, 1.0, 1.645)


def standardised_errors(
    demand: FloatArray,
    mean: FloatArray,
    sigma: FloatArray,
    periods: FloatArray,
    first: int,
    offset: int = 0,
) -> FloatArray:
    """``(n, T)`` ``z = (Σ_{i<H} y_{t+o+i} − F_t)/σ_t`` for the columns ``t ≥ first`` whose window
    ends inside the replay (NaN elsewhere or where σ is not positive). ``offset`` ``o = 1`` when
    column ``t`` holds the plan made at the end of period ``t`` (it protects the periods after).

    >>> y = np.array([[1.0, 2.0, 3.0, 4.0]])
    >>> f, s, h = np.full((1, 4), 4.0), np.full((1, 4), 2.0), np.full((1, 4), 2.0)
    >>> standardised_errors(y, f, s, h, 0).tolist()
    [[-0.5, 0.5, 1.5, nan]]
    """
    n, t_len = demand.shape
    h = np.maximum(np.ceil(np.nan_to_num(periods) - 1e-9), 1).astype(np.int64)
    cums = np.concatenate([np.zeros((n, 1)), np.cumsum(demand, axis=1)], axis=1)
    starts = np.arange(t_len)[None, :]
    begin = np.minimum(starts + offset, t_len)
    ends = begin + h
    total = np.take_along_axis(cums, np.minimum(ends, t_len), axis=1) - np.take_along_axis(
        cums, np.broadcast_to(begin, (n, t_len)), axis=1
    )
    ok = (ends <= t_len) & (starts >= first) & (sigma > 0) & np.isfinite(mean)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (total - mean) / sigma
    return np.where(ok, z, np.nan)


def calibration_by_class(
    classes: np.ndarray,
    z: FloatArray,
    series: pl.DataFrame,
    periods: int,
) -> pl.DataFrame:
    """One row per demand class: ``series, protection_periods, exceeded_k0, exceeded_k1,
    exceeded_k1645`` with their normal promises ``normal_k0 …``, ``fill_rate`` and
    ``median_inventory_to_demand``. ``series`` holds ``demand, served, average_on_hand`` per
    series (rows aligned with ``classes`` and ``z``); ``periods``: measured periods."""
    rows = []
    demand = series["demand"].to_numpy()
    served = series["served"].to_numpy()
    on_hand = series["average_on_hand"].to_numpy()
    per_period = demand / max(periods, 1)
    for name in sorted(set(classes.tolist()) | {"all"}):
        members = np.ones(classes.size, dtype=bool) if name == "all" else classes == name
        sample = z[members]
        sample = sample[np.isfinite(sample)]
        row: dict[str, object] = {
            "demand_class": name,
            "series": int(members.sum()),
            "protection_periods": int(sample.size),
        }
        for k in K_VALUES:
            label = f"k{k:g}".replace(".", "")
            row[f"exceeded_{label}"] = float(np.mean(sample > k)) if sample.size else None
            row[f"normal_{label}"] = float(1.0 - normal_cdf(k))
        with_demand = members & (demand > 0)
        total = demand[members].sum()
        row["fill_rate"] = float(served[members].sum() / total) if total > 0 else None
        row["median_inventory_to_demand"] = (
            float(np.median(on_hand[with_demand] / per_period[with_demand]))
            if with_demand.any()
            else None
        )
        rows.append(row)
    return pl.DataFrame(rows)
