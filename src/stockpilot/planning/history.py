"""Demand history: order lines → dense per-period demand matrix with outlier flags.

Demand is counted at the *requested* date of each order line (what customers asked for, so lost
and backordered demand count), bucketed into ISO weeks (Monday start) or calendar months.

Output (:class:`DemandHistory`):

* ``series`` — Polars frame, one row per item-location, in matrix row order:
  ``series_index: u32, item: str, site: str, first_demand_period: i64, n_lines: u32``.
* ``period_starts`` — ``datetime64[D]`` array, start date of each column.
* ``demand`` — ``(n_series, n_periods)`` float64, item units per period; zero where none.
* ``outlier`` — same shape, bool: a high outlier on a robust z-score over the series'
  non-zero periods, ``(y − median)/(1.4826·MAD) > k`` (Iglewicz & Hoaglin's modified z, default
  ``k = 3.5``). Outliers are flagged, never dropped.
* ``cleaned`` — winsorised copy for forecasting: flagged cells are capped at
  ``median + k·1.4826·MAD``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.planning.stats import FloatArray

__all__ = ["DemandHistory", "Period", "build_demand_history", "flag_outliers", "periods_per_year"]

Period = Literal["week", "month"]
BoolArray = npt.NDArray[np.bool_]


def periods_per_year(period: Period) -> int:
    """52 weeks or 12 months."""
    return 52 if period == "week" else 12


@dataclass(frozen=True)
class DemandHistory:
    """Dense demand matrix with its series index; see the module docstring for the schema."""

    series: pl.DataFrame
    period: Period
    period_starts: npt.NDArray[np.datetime64]
    demand: FloatArray
    outlier: BoolArray
    cleaned: FloatArray

    @property
    def n_series(self) -> int:
        return int(self.demand.shape[0])

    @property
    def n_periods(self) -> int:
        return int(self.demand.shape[1])


def _period_number(dates: pl.Expr, period: Period) -> pl.Expr:
    """Integer period number: weeks since 1970-01-05 (a Monday) or months since 1970-01."""
    if period == "week":
        return ((dates.cast(pl.Int64) - 4) // 7).alias("period_no")
    return (dates.dt.year().cast(pl.Int64) * 12 + dates.dt.month().cast(pl.Int64) - 1).alias(
        "period_no"
    )


def _period_start(number: npt.NDArray[np.int64], period: Period) -> npt.NDArray[np.datetime64]:
    if period == "week":
        return np.datetime64("1970-01-05") + (number * 7).astype("timedelta64[D]")
    years = number // 12
    months = number % 12
    return np.array(
        [np.datetime64(f"{y:04d}-{m + 1:02d}-01") for y, m in zip(years, months, strict=True)],
        dtype="datetime64[D]",
    )


def _row_median(values: FloatArray, mask: BoolArray) -> FloatArray:
    """Median of the masked entries of each row (NaN for empty rows), without a Python loop."""
    filled = np.where(mask, values, np.inf)
    ordered = np.sort(filled, axis=1)
    count = mask.sum(axis=1)
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, values.shape[1] - 1)
    rows = np.arange(values.shape[0])
    med = 0.5 * (ordered[rows, lo] + ordered[rows, hi])
    return np.where(count > 0, med, np.nan)


def flag_outliers(demand: FloatArray, k: float = 3.5) -> tuple[BoolArray, FloatArray]:
    """High outliers by the modified z-score over each series' non-zero periods.

    ``z_t = (y_t − median)/(1.4826·MAD)``; a cell is flagged when ``z_t > k``. Series whose MAD
    is zero (constant sizes) use the mean absolute deviation ×1.2533 as the scale; with no
    spread at all nothing is flagged. Returns ``(flags, winsorised copy)``.
    """
    nonzero = demand > 0
    median = _row_median(demand, nonzero)
    deviation = np.abs(demand - median[:, None])
    mad = _row_median(deviation, nonzero)
    count = np.maximum(nonzero.sum(axis=1), 1)
    mean_abs = np.where(nonzero, deviation, 0.0).sum(axis=1) / count
    scale = np.where(mad > 0, 1.4826 * mad, 1.2533 * mean_abs)
    threshold = median + k * scale
    valid = (scale > 0) & (nonzero.sum(axis=1) >= 4)
    flags = nonzero & valid[:, None] & (demand > threshold[:, None])
    cleaned = np.where(flags, threshold[:, None], demand)
    return flags, cleaned


def build_demand_history(
    lines: pl.DataFrame,
    period: Period = "week",
    start: date | None = None,
    end: date | None = None,
    outlier_k: float = 3.5,
) -> DemandHistory:
    """Aggregate order lines ``item, site, date, quantity`` into a dense demand matrix.

    ``date`` may be a Date/Datetime column or ISO strings. ``start``/``end`` bound the calendar
    (default: first and last line); periods without demand are zero.
    """
    frame = lines.select(
        pl.col("item").cast(pl.Utf8),
        pl.col("site").cast(pl.Utf8),
        pl.col("date").cast(pl.Date)
        if lines.schema["date"] != pl.Utf8
        else pl.col("date").str.to_date(),
        pl.col("quantity").cast(pl.Float64),
    )
    frame = frame.with_columns(_period_number(pl.col("date"), period))
    if frame.height:
        first_no = int(frame["period_no"].min())  # type: ignore[arg-type]
        last_no = int(frame["period_no"].max())  # type: ignore[arg-type]
    else:
        first_no = last_no = 0
    if start is not None:
        first_no = int(pl.select(_period_number(pl.lit(start), period)).item())
    if end is not None:
        last_no = int(pl.select(_period_number(pl.lit(end), period)).item())
    frame = frame.filter(pl.col("period_no").is_between(first_no, last_no))
    n_periods = max(last_no - first_no + 1, 1)
    keys = (
        frame.group_by("item", "site")
        .agg(
            pl.col("period_no").min().alias("first_period_no"),
            pl.len().cast(pl.UInt32).alias("n_lines"),
        )
        .sort("item", "site")
        .with_row_index("series_index")
    )
    cells = (
        frame.group_by("item", "site", "period_no")
        .agg(pl.col("quantity").sum())
        .join(keys.select("item", "site", "series_index"), on=["item", "site"])
    )
    demand = np.zeros((keys.height, n_periods))
    rows = cells["series_index"].to_numpy().astype(np.int64)
    cols = cells["period_no"].to_numpy().astype(np.int64) - first_no
    demand[rows, cols] = cells["quantity"].to_numpy()
    flags, cleaned = flag_outliers(demand, outlier_k)
    series = keys.select(
        "series_index",
        "item",
        "site",
        (pl.col("first_period_no") - first_no).alias("first_demand_period"),
        "n_lines",
    )
    starts = _period_start(np.arange(first_no, first_no + n_periods, dtype=np.int64), period)
    return DemandHistory(series, period, starts, demand, flags, cleaned)
