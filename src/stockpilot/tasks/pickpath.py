"""Pick-path ordering: the order in which a picker visits the lines of one pick list.

Plain data in (one :class:`PickStop` per pick line), a :class:`PickPath` out: the visiting
order, the travel to each stop and the total. The same input always gives the same path.

- **Walk sequence** when every stop's bin has one (the site's own walking order, surveyed on
  the floor): stops sorted by walk sequence, then location id, then line key.
- **Serpentine** over x/y otherwise: aisles (bins sharing an ``x``) in ascending ``x``, walking
  up the first aisle (ascending ``y``), down the next, and so on — the S-shape pickers walk.
- **Nearest neighbour + 2-opt** on request: from the start point to the nearest unvisited stop,
  then segment reversals while they shorten the path, bounded in stops and passes.

Travel is rectilinear (|Δx| + |Δy|) when every stop has coordinates, else counted in walk
sequence steps (|Δ walk sequence|). Stops with neither a walk sequence nor coordinates cannot be
placed: they go last, by location id then key, and are listed in ``unsequenced``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np
import numpy.typing as npt

from stockpilot.shared.errors import ValidationFailed

__all__ = [
    "Method",
    "PickPath",
    "PickStop",
    "Point",
    "mean_travel_per_line",
    "order_picks",
    "travel_per_line",
]

Method = Literal["auto", "walk_sequence", "serpentine", "nearest"]
Point = tuple[float, float]
MAX_TWO_OPT_STOPS = 200
MAX_TWO_OPT_PASSES = 8


@dataclass(frozen=True)
class PickStop:
    """One pick line at its bin: ``key`` is the caller's line (or task) id."""

    key: int
    location_id: int
    walk_sequence: int | None = None
    x: float | None = None
    y: float | None = None

    @property
    def point(self) -> Point | None:
        return None if self.x is None or self.y is None else (float(self.x), float(self.y))


@dataclass(frozen=True)
class PickPath:
    """Keys in visiting order, the travel to reach each one from the previous stop (the first
    from ``start`` when given, else 0), and the total (with the walk to ``end`` when given)."""

    order: tuple[int, ...]
    legs: tuple[float, ...]
    distance: float
    method: str
    unit: Literal["xy", "walk_sequence"]
    unsequenced: tuple[int, ...] = ()


def _check(stops: Sequence[PickStop], method: str) -> None:
    if method not in ("auto", "walk_sequence", "serpentine", "nearest"):
        raise ValidationFailed(
            "method must be auto, walk_sequence, serpentine or nearest", field="method"
        )
    keys = [s.key for s in stops]
    if len(set(keys)) != len(keys):
        raise ValidationFailed("pick lines repeat a key", field="key")


def order_picks(
    stops: Sequence[PickStop],
    *,
    method: Method = "auto",
    start: Point | None = None,
    end: Point | None = None,
    max_two_opt_stops: int = MAX_TWO_OPT_STOPS,
    max_two_opt_passes: int = MAX_TWO_OPT_PASSES,
) -> PickPath:
    """The visiting order of ``stops``, deterministic and stable.

    ``auto`` uses the walk sequence when every stop has one, else serpentine aisles.

    >>> stops = [PickStop(1, 10, x=0, y=9), PickStop(2, 11, x=4, y=1), PickStop(3, 12, x=0, y=2)]
    >>> path = order_picks(stops, start=(0, 0))
    >>> path.order, path.legs, path.distance, path.method
    ((3, 1, 2), (2.0, 7.0, 12.0), 21.0, 'serpentine')
    >>> order_picks([PickStop(1, 10, walk_sequence=5), PickStop(2, 11, walk_sequence=2)]).order
    (2, 1)
    """
    _check(stops, method)
    if method == "auto":
        method = (
            "walk_sequence" if all(s.walk_sequence is not None for s in stops) else "serpentine"
        )
    if method == "walk_sequence":
        placed = [s for s in stops if s.walk_sequence is not None]
        placed.sort(key=lambda s: (s.walk_sequence, s.location_id, s.key))
    else:
        placed = [s for s in stops if s.point is not None]
        if method == "serpentine":
            placed = _serpentine(placed, start)
        else:
            placed = _nearest_two_opt(placed, start, max_two_opt_stops, max_two_opt_passes)
    placed_keys = {s.key for s in placed}
    rest = sorted(
        (s for s in stops if s.key not in placed_keys), key=lambda s: (s.location_id, s.key)
    )
    return _measure([*placed, *rest], method, start, end, tuple(s.key for s in rest))


def _serpentine(stops: list[PickStop], start: Point | None) -> list[PickStop]:
    aisles = sorted({s.point[0] for s in stops if s.point})
    # From a start beyond the middle of the aisles, walk them from the far end back.
    if start is not None and aisles and start[0] > (aisles[0] + aisles[-1]) / 2:
        aisles.reverse()
    rank = {x: i for i, x in enumerate(aisles)}

    def key(s: PickStop) -> tuple[int, float, int, int]:
        x, y = s.point or (0.0, 0.0)
        up = rank[x] % 2 == 0
        return (rank[x], y if up else -y, s.location_id, s.key)

    return sorted(stops, key=key)


def _distances(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.abs(points[:, None, :] - points[None, :, :]).sum(axis=2)


def _nearest_two_opt(
    stops: list[PickStop], start: Point | None, max_stops: int, max_passes: int
) -> list[PickStop]:
    if len(stops) < 2:
        return stops
    stops = sorted(stops, key=lambda s: (s.location_id, s.key))  # ties go to the lower id
    pts = np.array([s.point for s in stops], dtype=np.float64)
    origin = np.array(start if start is not None else pts[0], dtype=np.float64)
    # Node 0 is the start point, fixed in place; nodes 1..n are the stops.
    dist = _distances(np.vstack([origin, pts]))
    route = [0]
    unvisited = np.ones(len(stops) + 1, dtype=bool)
    unvisited[0] = False
    for _ in range(len(stops)):
        row = np.where(unvisited, dist[route[-1]], np.inf)
        nxt = int(np.argmin(row))  # argmin takes the first of equal distances: deterministic
        route.append(nxt)
        unvisited[nxt] = False
    if len(stops) <= max_stops:
        route = _two_opt(route, dist, max_passes)
    return [stops[i - 1] for i in route[1:]]


def _two_opt(route: list[int], matrix: npt.NDArray[np.float64], max_passes: int) -> list[int]:
    """Reverse segments of an open path (its first node fixed) while that shortens it."""
    dist = matrix.tolist()  # list indexing is several times faster than NumPy scalars here
    n = len(route)
    for _ in range(max_passes):
        improved = False
        for i in range(1, n - 1):
            a, b = route[i - 1], route[i]
            row_a, row_b = dist[a], dist[b]
            for j in range(i + 1, n):
                c = route[j]
                if j + 1 < n:
                    d = route[j + 1]
                    gain = row_a[b] + dist[c][d] - row_a[c] - row_b[d]
                else:
                    gain = row_a[b] - row_a[c]
                if gain > 1e-9:
                    route[i : j + 1] = route[i : j + 1][::-1]
                    b = route[i]
                    row_b = dist[b]
                    improved = True
        if not improved:
            break
    return route


def _measure(
    ordered: list[PickStop],
    method: str,
    start: Point | None,
    end: Point | None,
    unsequenced: tuple[int, ...],
) -> PickPath:
    keys = tuple(s.key for s in ordered)
    placed = ordered[: len(ordered) - len(unsequenced)]
    points = [s.point for s in placed]
    if placed and all(p is not None for p in points):
        pts = [p for p in points if p is not None]
        prev = [start if start is not None else pts[0], *pts[:-1]]
        legs = [abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in zip(prev, pts, strict=True)]
        tail = abs(pts[-1][0] - end[0]) + abs(pts[-1][1] - end[1]) if end else 0.0
        legs += [0.0] * len(unsequenced)  # no coordinates: no travel can be counted
        return PickPath(keys, tuple(legs), sum(legs) + tail, method, "xy", unsequenced)
    seqs = [s.walk_sequence for s in ordered]
    legs = [0.0] + [0.0 if a is None or b is None else float(abs(b - a)) for a, b in pairwise(seqs)]
    legs = legs[: len(ordered)]
    return PickPath(keys, tuple(legs), sum(legs), method, "walk_sequence", unsequenced)


def travel_per_line(path: PickPath) -> dict[int, float]:
    """The travel attributed to each pick line: the leg walked to reach it.

    >>> path = order_picks([PickStop(1, 10, x=0, y=0), PickStop(2, 11, x=0, y=5)])
    >>> travel_per_line(path)
    {1: 0.0, 2: 5.0}
    """
    return dict(zip(path.order, path.legs, strict=True))


def mean_travel_per_line(path: PickPath) -> float:
    """Total travel divided by the number of lines (0 for an empty list): the pick-list KPI.

    >>> mean_travel_per_line(order_picks([PickStop(1, 10, x=0, y=0), PickStop(2, 11, x=0, y=5)]))
    2.5
    """
    return path.distance / len(path.order) if path.order else 0.0
