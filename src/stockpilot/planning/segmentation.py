"""Segmentation per item-location: ABC by value, XYZ by variability, demand class, criticality.

Defaults (tested against ``refs/abc_xyz_classes.csv``; all configurable):

* ABC on the value of the last ``abc_window`` periods (demand × unit cost), sorted descending
  (ties by item then site): **A** while the cumulative share *before* the item is < 0.80,
  **B** while < 0.95, else **C**. Zero total value → all C.
* XYZ on the population coefficient of variation ``CV = σ/μ`` of the last ``xyz_window``
  periods: **X** if CV ≤ 0.5, **Y** if CV ≤ 1.0, else **Z** (no demand → Z).
* Demand class over all periods (Syntetos, Boylan & Croston 2005): ``ADI = periods / non-zero
  periods``, ``CV² = (σ/μ)²`` of the non-zero sizes (population); **smooth** ADI < 1.32 and
  CV² < 0.49, **erratic** ADI < 1.32 and CV² ≥ 0.49, **intermittent** ADI ≥ 1.32 and
  CV² < 0.49, **lumpy** both high; **no_demand** without any demand.
* Service level: segment default by ABC×XYZ (A/X highest), raised to ``critical_service_level``
  for critical item-locations, overridden per item-location when given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.planning.stats import FloatArray

__all__ = [
    "DEFAULT_SEGMENT_SERVICE_LEVELS",
    "SegmentationConfig",
    "abc_classes",
    "demand_classes",
    "segment",
    "xyz_classes",
]

StrArray = npt.NDArray[np.str_]

DEFAULT_SEGMENT_SERVICE_LEVELS: dict[str, float] = {
    "AX": 0.98, "AY": 0.97, "AZ": 0.95,
    "BX": 0.96, "BY": 0.95, "BZ": 0.93,
    "CX": 0.93, "CY": 0.92, "CZ": 0.90,
}  # fmt: skip


@dataclass(frozen=True)
class SegmentationConfig:
    """Cut-offs and windows; ``None`` windows mean "one year of periods"."""

    abc_window: int | None = None
    xyz_window: int | None = None
    abc_a_share: float = 0.80
    abc_b_share: float = 0.95
    xyz_x_cv: float = 0.5
    xyz_y_cv: float = 1.0
    adi_cutoff: float = 1.32
    cv2_cutoff: float = 0.49
    segment_service_levels: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SEGMENT_SERVICE_LEVELS)
    )
    critical_service_level: float = 0.99


def abc_classes(
    value: FloatArray, tie_key: list[str] | StrArray, a_share: float = 0.80, b_share: float = 0.95
) -> StrArray:
    """ABC by cumulative value share *before* each item in descending value order."""
    keys = np.asarray(tie_key, dtype=object)
    order = np.lexsort((keys, -value))
    total = float(value.sum())
    sorted_value = value[order]
    before = np.cumsum(sorted_value) - sorted_value
    share = before / total if total > 0 else np.ones_like(before)
    labels = np.where(share < a_share, "A", np.where(share < b_share, "B", "C"))
    out = np.empty(value.shape[0], dtype="<U1")
    out[order] = labels
    return out


def xyz_classes(
    window: FloatArray, x_cv: float = 0.5, y_cv: float = 1.0
) -> tuple[StrArray, FloatArray]:
    """XYZ by the population CV of each row of ``window``; returns (classes, CV)."""
    mean = window.mean(axis=1)
    sd = window.std(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean > 0, sd / mean, np.inf)
    labels = np.where(cv <= x_cv, "X", np.where(cv <= y_cv, "Y", "Z"))
    return labels.astype("<U1"), cv


def demand_classes(
    demand: FloatArray, adi_cutoff: float = 1.32, cv2_cutoff: float = 0.49
) -> tuple[StrArray, FloatArray, FloatArray]:
    """Syntetos–Boylan–Croston class per row; returns ``(class, ADI, CV² of sizes)``."""
    nonzero = demand > 0
    count = nonzero.sum(axis=1)
    safe = np.maximum(count, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(count > 0, demand.shape[1] / safe, np.inf)
    mean = np.where(nonzero, demand, 0.0).sum(axis=1) / safe
    var = np.where(nonzero, (demand - mean[:, None]) ** 2, 0.0).sum(axis=1) / safe
    cv2 = np.where(mean > 0, var / np.where(mean > 0, mean, 1.0) ** 2, np.nan)
    high_adi = adi >= adi_cutoff
    high_cv2 = cv2 >= cv2_cutoff
    labels = np.where(
        high_adi,
        np.where(high_cv2, "lumpy", "intermittent"),
        np.where(high_cv2, "erratic", "smooth"),
    )
    labels = np.where(count == 0, "no_demand", labels)
    return labels.astype("<U12"), adi, cv2


def segment(
    demand: FloatArray,
    series: pl.DataFrame,
    unit_cost: FloatArray,
    periods_in_year: int,
    config: SegmentationConfig | None = None,
    critical: npt.NDArray[np.bool_] | None = None,
    service_level_override: FloatArray | None = None,
) -> pl.DataFrame:
    """Segment every series; returns a frame aligned with ``series`` rows.

    Columns: ``annual_value, abc, mean_recent, cv_recent, xyz, adi, cv2, demand_class,
    criticality, segment_service_level, service_level``.
    """
    cfg = config or SegmentationConfig()
    abc_window = cfg.abc_window or periods_in_year
    xyz_window = cfg.xyz_window or periods_in_year
    value = demand[:, -abc_window:].sum(axis=1) * unit_cost
    tie = (series["item"] + "\x00" + series["site"]).to_numpy().astype(str)
    abc = abc_classes(value, tie, cfg.abc_a_share, cfg.abc_b_share)
    recent = demand[:, -xyz_window:]
    xyz, cv = xyz_classes(recent, cfg.xyz_x_cv, cfg.xyz_y_cv)
    dclass, adi, cv2 = demand_classes(demand, cfg.adi_cutoff, cfg.cv2_cutoff)
    segment_key = np.char.add(abc, xyz)
    levels = cfg.segment_service_levels
    base = np.array([levels.get(str(k), 0.95) for k in np.unique(segment_key)])
    lookup = dict(zip(np.unique(segment_key).tolist(), base.tolist(), strict=True))
    seg_level = (
        np.vectorize(lookup.__getitem__, otypes=[np.float64])(segment_key)
        if len(segment_key)
        else np.zeros(0)
    )
    crit = np.zeros(demand.shape[0], dtype=bool) if critical is None else critical
    service = np.where(crit, np.maximum(seg_level, cfg.critical_service_level), seg_level)
    if service_level_override is not None:
        service = np.where(np.isfinite(service_level_override), service_level_override, service)
    return pl.DataFrame(
        {
            "annual_value": value,
            "abc": abc,
            "mean_recent": recent.mean(axis=1),
            "cv_recent": cv,
            "xyz": xyz,
            "adi": adi,
            "cv2": cv2,
            "demand_class": dclass,
            "criticality": np.where(crit, "critical", "normal"),
            "segment_service_level": seg_level,
            "service_level": service,
        }
    )
