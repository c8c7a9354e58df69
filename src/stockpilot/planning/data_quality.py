"""Master-data health: the findings that make plans wrong, each with the role that fixes it.

Pure: frames in, one frame of findings out (``rule, owner, item, supplier, detail`` and the
measured ``value`` / ``expected`` where a number is involved). Rules (all thresholds in
:class:`DataQualityConfig`):

* ``lead_time_drift`` (owner ``buyer``) — the lead time in the master (supplier-item, else
  supplier) is far from what receipts show: with at least ``min_receipts`` receipts, the median
  actual lead time (receipt − order date, days) differs from the master by more than
  ``lead_time_tolerance_days`` and by more than ``lead_time_tolerance_share`` of the master.
* ``missing_dimensions`` (owner ``master_data``) — length, width, height or weight not set.
* ``implausible_dimensions`` (owner ``master_data``) — a dimension or weight ≤ 0, or a density
  (weight ÷ volume) outside ``density_range`` g/cm³ (lighter than foam, denser than lead).
* ``pack_without_unit`` (owner ``master_data``) — a pack size above one with no unit of measure
  (and factor) defined for the item beyond its base unit: receipts in packs cannot be converted.
* ``demand_without_supplier`` (owner ``buyer``) — an active item with demand and no supplier.
* ``supplier_without_receipts`` (owner ``purchasing``) — a supplier with no receipt at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["FINDING_COLUMNS", "DataQualityConfig", "DataQualityInputs", "data_quality_findings"]

FINDING_COLUMNS = ["rule", "owner", "item", "supplier", "detail", "value", "expected"]


@dataclass(frozen=True)
class DataQualityConfig:
    min_receipts: int = 3
    lead_time_tolerance_days: float = 3.0
    lead_time_tolerance_share: float = 0.3
    density_range: tuple[float, float] = (0.005, 12.0)


@dataclass(frozen=True)
class DataQualityInputs:
    """``items``: ``item, active, length_mm, width_mm, height_mm, weight_g, pack_size,
    supplier`` (null: none); ``units``: ``item, uom`` (units beyond the base unit, each with its
    factor); ``suppliers``: ``supplier, lead_time_days``; ``supplier_items``: ``supplier, item,
    lead_time_days``; ``receipts``: ``item, supplier, order_date, receipt_date``; ``demand``:
    ``item`` (items with demand, one row each)."""

    items: pl.DataFrame
    units: pl.DataFrame
    suppliers: pl.DataFrame
    supplier_items: pl.DataFrame
    receipts: pl.DataFrame
    demand: pl.DataFrame


def _finding(rule: str, owner: str, frame: pl.DataFrame, detail: pl.Expr) -> pl.DataFrame:
    columns = {
        "rule": pl.lit(rule),
        "owner": pl.lit(owner),
        "item": pl.col("item").cast(pl.String) if "item" in frame.columns else pl.lit(None),
        "supplier": (
            pl.col("supplier").cast(pl.String) if "supplier" in frame.columns else pl.lit(None)
        ),
        "detail": detail,
        "value": pl.col("value").cast(pl.Float64) if "value" in frame.columns else pl.lit(None),
        "expected": (
            pl.col("expected").cast(pl.Float64) if "expected" in frame.columns else pl.lit(None)
        ),
    }
    return frame.select(
        [expr.cast(pl.Float64 if name in ("value", "expected") else pl.String).alias(name)
         for name, expr in columns.items()]
    )  # fmt: skip


def _lead_time_drift(inputs: DataQualityInputs, cfg: DataQualityConfig) -> pl.DataFrame:
    actual = (
        inputs.receipts.with_columns(
            (pl.col("receipt_date").cast(pl.Date) - pl.col("order_date").cast(pl.Date))
            .dt.total_days()
            .alias("days")
        )
        .group_by("supplier", "item")
        .agg(pl.col("days").median().alias("value"), pl.len().alias("receipts"))
        .filter(pl.col("receipts") >= cfg.min_receipts)
    )
    master = actual.join(
        inputs.supplier_items.select("supplier", "item", pl.col("lead_time_days").alias("own")),
        on=["supplier", "item"],
        how="left",
    ).join(
        inputs.suppliers.select("supplier", pl.col("lead_time_days").alias("general")),
        on="supplier",
        how="left",
    )
    gap = (pl.col("value") - pl.col("expected")).abs()
    drift = master.with_columns(pl.coalesce("own", "general").alias("expected")).filter(
        pl.col("expected").is_not_null()
        & (gap > cfg.lead_time_tolerance_days)
        & (gap > cfg.lead_time_tolerance_share * pl.col("expected"))
    )
    detail = pl.format(
        "receipts show {} days (median of {}), the master says {}",
        pl.col("value").round(1),
        pl.col("receipts"),
        pl.col("expected").round(1),
    )
    return _finding("lead_time_drift", "buyer", drift.sort("supplier", "item"), detail)


def _dimensions(inputs: DataQualityInputs, cfg: DataQualityConfig) -> list[pl.DataFrame]:
    dims = ["length_mm", "width_mm", "height_mm", "weight_g"]
    items = inputs.items
    missing = items.filter(pl.any_horizontal(pl.col(d).is_null() for d in dims))
    absent = pl.concat_list(
        [pl.when(pl.col(d).is_null()).then(pl.lit(d)).otherwise(pl.lit(None)) for d in dims]
    ).list.drop_nulls()
    found = [_finding("missing_dimensions", "master_data", missing,
                      pl.format("not set: {}", absent.list.join(", ")))]  # fmt: skip
    complete = items.filter(pl.all_horizontal(pl.col(d).is_not_null() for d in dims))
    volume_cm3 = pl.col("length_mm") * pl.col("width_mm") * pl.col("height_mm") / 1000.0
    low, high = cfg.density_range
    checked = complete.with_columns(
        pl.when(volume_cm3 > 0).then(pl.col("weight_g") / volume_cm3).alias("value")
    )
    bad = checked.filter(
        pl.any_horizontal(pl.col(d) <= 0 for d in dims)
        | (pl.col("value") < low)
        | (pl.col("value") > high)
    )
    detail = pl.format(
        "{} × {} × {} mm, {} g: {} g/cm³",
        *[pl.col(d) for d in dims],
        pl.col("value").round(4),
    )
    found.append(_finding("implausible_dimensions", "master_data", bad, detail))
    return found


def data_quality_findings(
    inputs: DataQualityInputs, config: DataQualityConfig | None = None
) -> pl.DataFrame:
    """Every finding of the rules in the module docstring, one row each (``FINDING_COLUMNS``)."""
    cfg = config or DataQualityConfig()
    found = [_lead_time_drift(inputs, cfg), *_dimensions(inputs, cfg)]
    with_units = inputs.units.select("item").unique()
    packs = inputs.items.filter(pl.col("pack_size") > 1).join(with_units, on="item", how="anti")
    packs = packs.with_columns(pl.col("pack_size").alias("value"))
    unit = pl.format("pack of {} with no unit of measure and factor for it", pl.col("pack_size"))
    found.append(_finding("pack_without_unit", "master_data", packs, unit))
    orphans = inputs.items.filter(pl.col("active") & pl.col("supplier").is_null()).join(
        inputs.demand.select("item").unique(), on="item", how="semi"
    )
    orphans = orphans.join(inputs.supplier_items.select("item").unique(), on="item", how="anti")
    found.append(
        _finding("demand_without_supplier", "buyer", orphans,
                 pl.lit("has demand and no supplier to buy it from"))
    )  # fmt: skip
    silent = inputs.suppliers.join(
        inputs.receipts.select("supplier").unique(), on="supplier", how="anti"
    )
    found.append(
        _finding("supplier_without_receipts", "purchasing", silent, pl.lit("no receipt recorded"))
    )
    return pl.concat(found, how="vertical").sort("rule", "supplier", "item", nulls_last=True)
