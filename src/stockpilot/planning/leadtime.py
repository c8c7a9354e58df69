"""Lead times learned from receipt history, with an explicit fallback chain.

Input ``receipts``: ``item, site, supplier, order_date, receipt_date, quantity`` and optionally
``promised_date``. Actual lead time of a receipt = ``receipt_date − order_date`` in days.

Per item-location the estimate comes from the first source with enough receipts
(``min_receipts``), recorded in ``lead_time_source``:

1. ``history`` — receipts of the main supplier × item × site (mean, population std);
2. ``supplier`` — all receipts of that supplier (any item, any site);
3. ``master_data`` — ``lead_time_days`` / ``lead_time_std_days`` from the items frame;
4. ``default`` — the configured global default.

The main supplier of an item-location is the one with most receipts (ties: latest receipt), or
the ``supplier`` column of the items frame when there is no history. ``on_time_share`` is the
share of receipts received by the promised date (``promised_date`` when given, else order date +
quoted ``lead_time_days``); NaN when no promise is known. Conversion to periods divides days by
7 (week) or 365.25/12 (month).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from stockpilot.planning.history import Period

__all__ = ["LeadTimeConfig", "days_per_period", "learn_lead_times"]


@dataclass(frozen=True)
class LeadTimeConfig:
    """Fallback thresholds and the global default (days)."""

    min_receipts: int = 3
    default_days: float = 14.0
    default_std_days: float = 0.0


def days_per_period(period: Period) -> float:
    """7 days per week, 365.25/12 days per month."""
    return 7.0 if period == "week" else 365.25 / 12.0


def _to_date(frame: pl.DataFrame, name: str) -> pl.Expr:
    if frame.schema[name] == pl.Utf8:
        return pl.col(name).str.to_date()
    return pl.col(name).cast(pl.Date)


def learn_lead_times(
    keys: pl.DataFrame,
    receipts: pl.DataFrame | None,
    items: pl.DataFrame | None,
    period: Period,
    config: LeadTimeConfig | None = None,
) -> pl.DataFrame:
    """Lead time per ``keys`` row (``item, site``), in the same order.

    Returns ``item, site, supplier, n_receipts, lead_time_days, lead_time_std_days,
    on_time_share, lead_time_source, lead_time_periods, lead_time_std_periods``.
    """
    cfg = config or LeadTimeConfig()
    base = keys.select("item", "site").with_row_index("_row")
    master_cols = [
        c
        for c in ("lead_time_days", "lead_time_std_days", "supplier")
        if items is not None and c in items.columns
    ]
    if items is not None and master_cols:
        master = items.select("item", "site", *master_cols).unique(["item", "site"], keep="last")
        base = base.join(master, on=["item", "site"], how="left")
    for col, dtype in (
        ("lead_time_days", pl.Float64),
        ("lead_time_std_days", pl.Float64),
        ("supplier", pl.Utf8),
    ):
        if col not in base.columns:
            base = base.with_columns(pl.lit(None, dtype=dtype).alias(col))
    base = base.rename(
        {
            "lead_time_days": "quoted_days",
            "lead_time_std_days": "quoted_std_days",
            "supplier": "master_supplier",
        }
    )
    if receipts is not None and receipts.height:
        rec = receipts.with_columns(
            _to_date(receipts, "order_date").alias("order_date"),
            _to_date(receipts, "receipt_date").alias("receipt_date"),
        ).with_columns(
            (pl.col("receipt_date") - pl.col("order_date"))
            .dt.total_days()
            .cast(pl.Float64)
            .alias("actual_days"),
            pl.col("supplier").cast(pl.Utf8),
        )
        if "promised_date" in rec.columns:
            rec = rec.with_columns(_to_date(rec, "promised_date").alias("promised_date"))
        else:
            rec = rec.join(
                base.select("item", "site", "quoted_days"), on=["item", "site"], how="left"
            ).with_columns(
                (
                    pl.col("order_date")
                    + pl.duration(days=pl.col("quoted_days").round().cast(pl.Int64))
                ).alias("promised_date")
            )
        rec = rec.with_columns(
            pl.when(pl.col("promised_date").is_null())
            .then(None)
            .otherwise((pl.col("receipt_date") <= pl.col("promised_date")).cast(pl.Float64))
            .alias("on_time")
        )
        per_lane = rec.group_by("item", "site", "supplier").agg(
            pl.len().alias("lane_n"),
            pl.col("actual_days").mean().alias("lane_mean"),
            pl.col("actual_days").std(ddof=0).alias("lane_std"),
            pl.col("on_time").mean().alias("lane_on_time"),
            pl.col("receipt_date").max().alias("lane_last"),
        )
        main = per_lane.sort(["lane_n", "lane_last"], descending=True).unique(
            ["item", "site"], keep="first"
        )
        per_supplier = rec.group_by("supplier").agg(
            pl.len().alias("sup_n"),
            pl.col("actual_days").mean().alias("sup_mean"),
            pl.col("actual_days").std(ddof=0).alias("sup_std"),
            pl.col("on_time").mean().alias("sup_on_time"),
        )
        base = base.join(main, on=["item", "site"], how="left")
        base = base.with_columns(pl.coalesce("supplier", "master_supplier").alias("supplier")).join(
            per_supplier, on="supplier", how="left"
        )
    else:
        base = base.with_columns(
            pl.col("master_supplier").alias("supplier"),
            *[
                pl.lit(None, dtype=pl.Float64).alias(c)
                for c in (
                    "lane_n",
                    "lane_mean",
                    "lane_std",
                    "lane_on_time",
                    "sup_n",
                    "sup_mean",
                    "sup_std",
                    "sup_on_time",
                )
            ],
        )
    k = cfg.min_receipts
    lane_ok = pl.col("lane_n").fill_null(0) >= k
    sup_ok = pl.col("sup_n").fill_null(0) >= k
    master_ok = pl.col("quoted_days").is_not_null()
    out = base.with_columns(
        pl.when(lane_ok)
        .then(pl.lit("history"))
        .when(sup_ok)
        .then(pl.lit("supplier"))
        .when(master_ok)
        .then(pl.lit("master_data"))
        .otherwise(pl.lit("default"))
        .alias("lead_time_source"),
        pl.when(lane_ok)
        .then("lane_mean")
        .when(sup_ok)
        .then("sup_mean")
        .when(master_ok)
        .then("quoted_days")
        .otherwise(pl.lit(cfg.default_days))
        .alias("lead_time_days"),
        pl.when(lane_ok)
        .then("lane_std")
        .when(sup_ok)
        .then("sup_std")
        .when(master_ok)
        .then(pl.col("quoted_std_days").fill_null(0.0))
        .otherwise(pl.lit(cfg.default_std_days))
        .alias("lead_time_std_days"),
        pl.when(lane_ok)
        .then("lane_on_time")
        .when(sup_ok)
        .then("sup_on_time")
        .otherwise(None)
        .cast(pl.Float64)
        .alias("on_time_share"),
        pl.col("lane_n").fill_null(0).cast(pl.Int64).alias("n_receipts"),
    )
    per = days_per_period(period)
    return out.sort("_row").select(
        "item",
        "site",
        pl.col("supplier").cast(pl.Utf8),
        "n_receipts",
        pl.col("lead_time_days").cast(pl.Float64),
        pl.col("lead_time_std_days").cast(pl.Float64).fill_null(0.0),
        "on_time_share",
        "lead_time_source",
        (pl.col("lead_time_days").cast(pl.Float64) / per).alias("lead_time_periods"),
        (pl.col("lead_time_std_days").cast(pl.Float64).fill_null(0.0) / per).alias(
            "lead_time_std_periods"
        ),
    )
