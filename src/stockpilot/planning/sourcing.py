"""Alternate sourcing and contingency stock: who supplies an item when its supplier fails, and
what a buffer against a scenario's stockout costs.

**Alternate source** (:func:`alternate_sources`). For every item whose primary supplier is
*failing* — named in a disruption scenario, or whose lead time has drifted: the median of its
last receipts exceeds the quoted lead time by more than ``drift_share`` — the other suppliers of
the item (``supplier_item`` rows) are scored and the lowest score wins:

    score = cost_weight·(cost / cheapest cost) + lead_weight·(lead / shortest lead)
            + reliability_weight·(1 − on-time share)

each term relative to the best candidate of the item, so a supplier 10 % dearer and twice as
fast beats one that is cheap and slow when lead time weighs more. A candidate that is itself
disrupted is never chosen; an item with no other supplier is reported with ``alternate`` null.

**Contingency buffer** (:func:`contingency_buffers`). When a scenario replay shows a stockout for
an item-location, the buffer is the smallest stock added to ``s`` and ``S`` that brings its
unserved demand back to the baseline's (:func:`stockpilot.planning.simulation.scenario_buffers`,
whole units) — not the unserved demand itself, which under backorders counts a backlog that a
few units of buffer would have prevented: holding it costs ``buffer × unit_cost ×
holding_rate`` a year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

__all__ = ["SourcingWeights", "alternate_sources", "contingency_buffers"]


@dataclass(frozen=True)
class SourcingWeights:
    cost_weight: float = 1.0
    lead_weight: float = 1.0
    reliability_weight: float = 1.0
    drift_share: float = 0.25


def alternate_sources(
    primaries: pl.DataFrame,
    candidates: pl.DataFrame,
    disrupted: Iterable[str] = (),
    weights: SourcingWeights | None = None,
) -> pl.DataFrame:
    """One row per item whose primary fails: ``item, primary, reason, alternate, unit_cost,
    lead_time_days, on_time_share, score``.

    ``primaries``: ``item, supplier, quoted_lead_time_days, actual_lead_time_days`` (actual:
    median of recent receipts, null if none); ``candidates``: ``item, supplier, unit_cost,
    lead_time_days, on_time_share`` (null on-time share counts as 1).

    >>> primaries = pl.DataFrame({"item": ["A"], "supplier": ["P"],
    ...     "quoted_lead_time_days": [10.0], "actual_lead_time_days": [20.0]})
    >>> candidates = pl.DataFrame({"item": ["A", "A"], "supplier": ["Q", "R"],
    ...     "unit_cost": [10.0, 11.0], "lead_time_days": [30.0, 10.0],
    ...     "on_time_share": [1.0, 1.0]})
    >>> alternate_sources(primaries, candidates)["alternate"].to_list()
    ['R']
    """
    w = weights or SourcingWeights()
    blocked = set(disrupted)
    drift = pl.col("actual_lead_time_days") > pl.col("quoted_lead_time_days") * (1 + w.drift_share)
    failing = primaries.with_columns(
        pl.when(pl.col("supplier").is_in(list(blocked)))
        .then(pl.lit("disrupted"))
        .when(drift.fill_null(False))
        .then(pl.format("lead time drifted: {} days against {} quoted",
                        pl.col("actual_lead_time_days").round(1),
                        pl.col("quoted_lead_time_days").round(1)))
        .otherwise(pl.lit(None))
        .alias("reason")
    ).filter(pl.col("reason").is_not_null())  # fmt: skip
    others = candidates.join(
        failing.select("item", pl.col("supplier").alias("primary")), on="item", how="inner"
    ).filter((pl.col("supplier") != pl.col("primary")) & ~pl.col("supplier").is_in(list(blocked)))
    scored = others.with_columns(pl.col("on_time_share").fill_null(1.0)).with_columns(
        (
            w.cost_weight * pl.col("unit_cost") / pl.col("unit_cost").min().over("item")
            + w.lead_weight
            * pl.col("lead_time_days")
            / pl.col("lead_time_days").min().over("item").clip(lower_bound=1e-9)
            + w.reliability_weight * (1.0 - pl.col("on_time_share"))
        ).alias("score")
    )
    best = scored.sort("item", "score", "supplier").unique("item", keep="first")
    out = failing.select("item", pl.col("supplier").alias("primary"), "reason").join(
        best.select(
            "item", pl.col("supplier").alias("alternate"), "unit_cost", "lead_time_days",
            "on_time_share", "score",
        ),
        on="item",
        how="left",
    )  # fmt: skip
    return out.sort("item")


def contingency_buffers(
    unserved: np.ndarray, unit_cost: np.ndarray, holding_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Buffer (whole units, rounded up) and its yearly holding cost per item-location, from the
    stock a scenario needs (:func:`stockpilot.planning.simulation.scenario_buffers`).

    >>> contingency_buffers(np.array([12.4, 0.0]), np.array([5.0, 5.0]), 0.25)
    (array([13.,  0.]), array([16.25,  0.  ]))
    """
    buffer = np.maximum(np.ceil(np.maximum(unserved, 0.0) - 1e-9), 0.0)  # no −0.0
    return buffer, buffer * unit_cost * holding_rate
