"""Known events as forecast uplifts: promotions, openings, seasonal campaigns.

An event names a window (``start`` … ``end``, inclusive dates), an uplift in percent of the
forecast, and what it applies to: an ``item`` (or every item of a ``family``) at a ``site``, a
blank field meaning "every". Each period of the forecast path whose start falls in the window is
multiplied by ``1 + uplift/100``; overlapping events multiply. The stock then protects the
uplifted path wherever it enters the protection interval ``L + R``, so an item with a long lead
time orders for the event before it starts (its pre-event build-up), and the plan says so: the
largest uplift over the protection interval is the ``event_uplift`` column, and ``event_build``
is the extra demand over that interval the events add (item units).

Events come as a frame ``item, family, site, start, end, uplift_pct`` (``events.csv`` beside the
planning CSVs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.planning.stats import FloatArray

__all__ = ["EVENT_COLUMNS", "EventUplift", "event_uplift"]

EVENT_COLUMNS = ("item", "family", "site", "start", "end", "uplift_pct")


@dataclass(frozen=True)
class EventUplift:
    """``factor``: ``(n, H)`` multipliers of the forecast path; ``events``: how many events touch
    each series."""

    factor: FloatArray
    events: npt.NDArray[np.int64]


def event_uplift(
    keys: pl.DataFrame,
    families: npt.NDArray[np.str_],
    path_starts: npt.NDArray[np.datetime64],
    events: pl.DataFrame | None,
) -> EventUplift:
    """Multipliers of the path of every series (``keys``: ``item, site`` rows; ``families``
    per row, "" when unknown; ``path_starts``: the start date of each path period).

    >>> keys = pl.DataFrame({"item": ["A", "B"], "site": ["S1", "S1"]})
    >>> starts = np.array(["2025-01-06", "2025-01-13", "2025-01-20"], dtype="datetime64[D]")
    >>> ev = pl.DataFrame({"item": ["A"], "family": [""], "site": [""],
    ...     "start": ["2025-01-13"], "end": ["2025-01-19"], "uplift_pct": [50.0]})
    >>> event_uplift(keys, np.array(["", ""]), starts, ev).factor.tolist()
    [[1.0, 1.5, 1.0], [1.0, 1.0, 1.0]]
    """
    n, width = keys.height, path_starts.size
    factor = np.ones((n, width))
    touched = np.zeros(n, dtype=np.int64)
    if events is None or events.height == 0:
        return EventUplift(factor, touched)
    items = keys["item"].to_numpy().astype(str)
    sites = keys["site"].to_numpy().astype(str)
    for row in events.iter_rows(named=True):  # a handful of events, each over all series
        start = np.datetime64(str(row["start"])[:10], "D")
        end = np.datetime64(str(row["end"])[:10], "D")
        inside = (path_starts >= start) & (path_starts <= end)
        match = np.ones(n, dtype=bool)
        for field, values in (("item", items), ("family", families), ("site", sites)):
            wanted = (row.get(field) or "").strip()
            if wanted:
                match &= values == wanted
        factor[np.ix_(match, inside)] *= 1.0 + float(row["uplift_pct"]) / 100.0
        touched += match & bool(inside.any())
    return EventUplift(factor, touched)
