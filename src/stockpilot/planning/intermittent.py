"""Intermittent-demand forecasts with statsforecast-compatible conventions (vectorised).

Conventions (checked against statsforecast 2.1.1 in ``refs/intermittent_forecasts.csv``):

* SES is initialised at the first observation; the default ``α = 0.1``.
* Croston's first interval counts from period 1 to the first non-zero period.
* "Optimised" SES picks ``α ∈ [0.1, 0.3]`` minimising the in-sample one-step SSE
  ``Σ_{i≥1} (x_i − ŷ_i)²``, ``ŷ_1 = x_0``, ``ŷ_{i+1} = α·x_i + (1 − α)·ŷ_i``, of the sequence it
  smooths, by golden-section search: ratio ``(√5 + 1)/2``, stop when the bracket is narrower
  than ``1e-9`` (the reference: ``1e-12``, see ``_TOLERANCE``) or when the two probes tie — a
  flat SSE (two values, or all but the last equal) keeps the bracket midpoint, ``α = 0.2`` —
  and return the bracket midpoint. A sequence of one value forecasts that value.
* TSB smooths the 0/1 occurrence over all periods and the sizes over non-zero periods only.
* SBA = ``(1 − α/2)``·Croston.
* ADIDA (Nikolopoulos et al. 2011): aggregate into non-overlapping buckets of
  ``a = round(mean inter-demand interval)`` periods (incomplete bucket at the *start* dropped),
  optimised SES on the bucket sums, forecast ``/ a``.
* IMAPA (Petropoulos & Kourentzes 2015): average of the ADIDA-style forecasts over aggregation
  levels ``1..a``.

All functions take ``Y`` of shape ``(n, T)`` and return the one-step forecast per series
``(n,)`` (flat over the horizon). Series without demand forecast 0.

Speed: every optimised SES call — Croston's sizes and intervals, every ADIDA/IMAPA level of
every series — is one *ragged* problem: each sequence left-aligned in a column of a
``(K, m)`` matrix, columns sorted by length so the sequences still running at position ``k``
are a contiguous prefix (a view, no copy). One golden step is one pass over positions for all
sequences at once; all sequences take their steps together and leave the search individually.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockpilot.planning.forecast_kernels import croston_kernel, tsb_kernel
from stockpilot.planning.stats import FloatArray

__all__ = [
    "Ragged",
    "adida",
    "croston_classic",
    "croston_optimized",
    "croston_sba",
    "golden_alpha",
    "imapa",
    "mean_interval",
    "optimized_ses",
    "ses_forecast",
    "ses_sse",
    "tsb",
]

IntArray = npt.NDArray[np.int64]

_RATIO = (np.sqrt(5.0) + 1.0) / 2.0
# The reference stops the search when the bracket is narrower than 1e-12. From a width of about
# 1e-8 on, the SSE difference between the two probes is below float64 rounding of the SSE, so
# the last steps only follow rounding noise: stopping at 1e-9 saves a quarter of the passes and
# moves forecasts by < 1e-7 relative (2e-8 on the benchmark's 10k series). Pass 1e-12 to
# reproduce the reference's α bit for bit.
_TOLERANCE = 1e-9


def croston_classic(y: FloatArray, alpha: float = 0.1) -> FloatArray:
    """Croston's method with ``α = 0.1`` on sizes and intervals."""
    return croston_kernel(y, alpha).path[0, :, 0]


def croston_sba(y: FloatArray, alpha: float = 0.1) -> FloatArray:
    """Syntetos–Boylan approximation: ``(1 − α/2)``·Croston."""
    return croston_kernel(y, alpha, sba=True).path[0, :, 0]


def tsb(y: FloatArray, alpha_size: float, alpha_probability: float) -> FloatArray:
    """TSB forecast ``p·z`` with size smoothing ``α`` and occurrence smoothing ``β``."""
    return tsb_kernel(y, alpha_size, alpha_probability).path[0, :, 0]


@dataclass(frozen=True)
class Ragged:
    """Sequences of different lengths, one per column, longest first.

    ``values[k, j]``: element ``k`` of sequence ``j`` (0 past its end); ``lengths`` descending;
    ``running[k]``: how many sequences have more than ``k`` elements; ``order[j]``: the caller's
    index of sequence ``j``.
    """

    values: FloatArray
    lengths: IntArray
    running: IntArray
    order: IntArray

    @classmethod
    def from_rows(cls, values: FloatArray, lengths: IntArray) -> Ragged:
        """From left-aligned rows ``values[i, :lengths[i]]``."""
        order = np.argsort(-lengths, kind="stable").astype(np.int64)
        sorted_lengths = lengths[order]
        width = int(sorted_lengths[0]) if sorted_lengths.size else 0
        columns = np.ascontiguousarray(values[order, :width].T)
        return cls(columns, sorted_lengths, _running(sorted_lengths, width), order)

    @classmethod
    def from_mask(cls, values: list[FloatArray], mask: npt.NDArray[np.bool_]) -> Ragged:
        """Sequence ``j·n + i``: the masked entries of ``values[j][i]`` in period order.

        Scattered straight into the sorted column layout (one pass, no intermediate matrix).
        """
        n = mask.shape[0]
        lengths = np.tile(mask.sum(axis=1).astype(np.int64), len(values))
        order = np.argsort(-lengths, kind="stable").astype(np.int64)
        column_of = np.empty_like(order)
        column_of[order] = np.arange(order.size)
        sorted_lengths = lengths[order]
        width = int(sorted_lengths[0]) if sorted_lengths.size else 0
        columns = np.zeros((width, order.size))
        rows, periods = np.nonzero(mask)
        row_start = np.cumsum(lengths[:n]) - lengths[:n]
        position = np.arange(rows.size) - row_start[rows]
        for j, matrix in enumerate(values):
            columns[position, column_of[rows + j * n]] = matrix[rows, periods]
        return cls(columns, sorted_lengths, _running(sorted_lengths, width), order)

    def unsort(self, per_sequence: FloatArray) -> FloatArray:
        """Back to the caller's order."""
        out = np.empty_like(per_sequence)
        out[self.order] = per_sequence
        return out


def _running(sorted_lengths: IntArray, width: int) -> IntArray:
    """``running[k]``: how many of the (descending) lengths exceed ``k``."""
    at_least = np.bincount(sorted_lengths, minlength=width + 2)[::-1].cumsum()[::-1]
    return np.asarray(at_least[1 : width + 1], dtype=np.int64)


def ses_sse(seqs: Ragged, alpha: FloatArray) -> FloatArray:
    """In-sample one-step SSE of SES per sequence (``α`` per sequence, sorted order).

    Written as ``ŷ ← α·x + (1 − α)·ŷ`` — the reference's arithmetic, so a flat SSE is flat
    bit for bit and ties break the same way.
    """
    x = seqs.values
    complement = 1.0 - alpha
    fitted = x[0].copy() if x.shape[0] else np.zeros(alpha.shape)
    sse = np.zeros(alpha.shape)
    scratch = np.empty(alpha.shape)
    for k in range(1, x.shape[0]):
        m = int(seqs.running[k])
        f, tmp = fitted[:m], scratch[:m]
        f *= complement[:m]
        np.multiply(alpha[:m], x[k - 1, :m], out=tmp)
        f += tmp
        np.subtract(x[k, :m], f, out=tmp)
        tmp *= tmp
        sse[:m] += tmp
    return sse


def ses_forecast(seqs: Ragged, alpha: FloatArray) -> FloatArray:
    """One-step forecast after each sequence's last element (sorted order; 0 if empty)."""
    x = seqs.values
    if x.shape[0] == 0:
        return np.zeros(alpha.shape)
    complement = 1.0 - alpha
    fitted = x[0].copy()
    for k in range(1, x.shape[0]):
        m = int(seqs.running[k])
        fitted[:m] = alpha[:m] * x[k - 1, :m] + complement[:m] * fitted[:m]
    last = x[np.maximum(seqs.lengths - 1, 0), np.arange(x.shape[1])]
    out = alpha * last + complement * fitted
    return np.where(seqs.lengths > 1, out, last)


def golden_alpha(
    seqs: Ragged, lower: float = 0.1, upper: float = 0.3, tolerance: float = _TOLERANCE
) -> FloatArray:
    """Per sequence ``α ∈ [lower, upper]`` minimising :func:`ses_sse` by golden section.

    All sequences step together; a sequence leaves the search when its bracket is narrower than
    ``tolerance`` or its two probes tie, so each follows exactly the scalar search's path
    (bit for bit, with the reference's arithmetic in :func:`ses_sse`).
    """
    m = seqs.values.shape[1]
    a, b = np.full(m, lower), np.full(m, upper)
    c, d = b - (b - a) / _RATIO, a + (b - a) / _RATIO
    fc, fd = ses_sse(seqs, c), ses_sse(seqs, d)
    searching = np.ones(m, dtype=bool)
    while True:
        searching &= np.abs(b - a) >= tolerance
        left = searching & (fc < fd)
        right = searching & (fd < fc)
        searching = left | right
        if not searching.any():
            return (b + a) / 2.0
        # left: the minimum lies in [a, d] — b ← d, d ← c, probe a new c; right: it lies in
        # [c, b] — a ← c, c ← d, probe a new d; the others stay. Selection by 0/1 weights
        # (x·1 + y·0 is exactly x) costs a third of masked selects on shuffled masks.
        to_left, to_right = left.astype(np.float64), right.astype(np.float64)
        stay = 1.0 - to_left - to_right
        a = a * (1.0 - to_right) + c * to_right
        b = b * (1.0 - to_left) + d * to_left
        step = (b - a) / _RATIO
        probe = (b - step) * to_left + (a + step) * (1.0 - to_left)
        f_probe = ses_sse(seqs, probe)
        c, d = c * stay + d * to_right + probe * to_left, d * stay + c * to_left + probe * to_right
        fc, fd = (
            fc * stay + fd * to_right + f_probe * to_left,
            fd * stay + fc * to_left + f_probe * to_right,
        )


def _optimised_forecast(seqs: Ragged, lower: float = 0.1, upper: float = 0.3) -> FloatArray:
    """Optimised-SES forecast of every sequence, in the caller's order."""
    return seqs.unsort(ses_forecast(seqs, golden_alpha(seqs, lower, upper)))


def optimized_ses(
    y: FloatArray,
    mask: npt.NDArray[np.bool_] | None = None,
    lower: float = 0.1,
    upper: float = 0.3,
) -> FloatArray:
    """Optimised-SES forecast per row over its masked entries (all entries without a mask).

    ``α ∈ [lower, upper]``: ``[0.1, 0.3]`` inside Croston/ADIDA/IMAPA, ``[0.01, 0.99]`` for
    stand-alone SES. Rows without masked entries forecast 0.
    """
    if mask is None:
        lengths = np.full(y.shape[0], y.shape[1], dtype=np.int64)
        return _optimised_forecast(Ragged.from_rows(y, lengths), lower, upper)
    return _optimised_forecast(Ragged.from_mask([y], mask), lower, upper)


def _intervals_matrix(y: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Inter-demand intervals placed at demand periods (first counted from period 1)."""
    demand = y > 0
    period = np.arange(1, y.shape[1] + 1, dtype=np.float64)
    last = np.maximum.accumulate(np.where(demand, period, 0.0), axis=1)
    previous = np.concatenate([np.zeros((y.shape[0], 1)), last[:, :-1]], axis=1)
    return np.where(demand, period - previous, 0.0), demand


def croston_optimized(y: FloatArray) -> FloatArray:
    """Croston with sizes and intervals each smoothed by optimised SES (``α ∈ [0.1, 0.3]``).

    Sizes and intervals have the same lengths, so both go through one search (``2n``
    sequences).
    """
    n = y.shape[0]
    intervals, demand = _intervals_matrix(y)
    seqs = Ragged.from_mask([y, intervals], demand)
    both = _optimised_forecast(seqs)
    size, interval = both[:n], both[n:]
    has_demand = demand.any(axis=1)
    safe = np.where(has_demand, interval, 1.0)
    return np.asarray(np.where(has_demand, size / safe, 0.0), dtype=np.float64)


def mean_interval(y: FloatArray) -> FloatArray:
    """Mean inter-demand interval per series (NaN without demand)."""
    intervals, mask = _intervals_matrix(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(intervals.sum(axis=1) / mask.sum(axis=1), dtype=np.float64)


def _bucket_sums(y: FloatArray, level: int) -> FloatArray:
    """Non-overlapping sums of ``level`` periods; the incomplete bucket at the start dropped."""
    t_len = y.shape[1]
    usable = (t_len // level) * level
    return np.asarray(
        y[:, t_len - usable :].reshape(y.shape[0], -1, level).sum(axis=2), dtype=np.float64
    )


# Sequences × width packed into one search at most: bounds memory for sparse data (IMAPA has
# one sequence per series and aggregation level).
_BATCH_ELEMENTS = 4_000_000


def _forecast_blocks(blocks: list[FloatArray]) -> list[FloatArray]:
    """Optimised-SES forecast of every row of every block (rows of equal length per block).

    Blocks are packed into as few searches as memory allows — one Python loop over positions
    serves them all.
    """
    out: list[FloatArray] = []
    start = 0
    while start < len(blocks):
        stop, rows, width = start, 0, 0
        while stop < len(blocks):
            r, w = blocks[stop].shape
            if stop > start and (rows + r) * max(width, w) > _BATCH_ELEMENTS:
                break
            rows, width, stop = rows + r, max(width, w), stop + 1
        packed = np.zeros((rows, width))
        lengths = np.empty(rows, dtype=np.int64)
        at = 0
        for block in blocks[start:stop]:
            packed[at : at + block.shape[0], : block.shape[1]] = block
            lengths[at : at + block.shape[0]] = block.shape[1]
            at += block.shape[0]
        forecasts = _optimised_forecast(Ragged.from_rows(packed, lengths))
        at = 0
        for block in blocks[start:stop]:
            out.append(forecasts[at : at + block.shape[0]])
            at += block.shape[0]
        start = stop
    return out


def _aggregation_levels(y: FloatArray) -> IntArray:
    # np.round is round-half-to-even, like Python's round() that the reference applies.
    return np.round(np.nan_to_num(mean_interval(y), nan=0.0)).astype(np.int64)


def adida(y: FloatArray) -> FloatArray:
    """ADIDA forecast per series: optimised SES on ``a``-period bucket sums, divided by ``a``."""
    levels = _aggregation_levels(y)
    distinct = [int(v) for v in np.unique(levels[levels > 0])]
    groups = [levels == level for level in distinct]
    forecasts = _forecast_blocks(
        [_bucket_sums(y[rows], lv) for rows, lv in zip(groups, distinct, strict=True)]
    )
    out = np.zeros(y.shape[0])
    for rows, level, forecast in zip(groups, distinct, forecasts, strict=True):
        out[rows] = forecast / level
    return out


def imapa(y: FloatArray) -> FloatArray:
    """IMAPA forecast per series: mean over aggregation levels ``1..a`` of ADIDA-style forecasts."""
    levels = _aggregation_levels(y)
    top = int(levels.max(initial=0))
    groups = [levels >= level for level in range(1, top + 1)]
    blocks = [_bucket_sums(y[rows], level) for level, rows in enumerate(groups, start=1)]
    total = np.zeros(y.shape[0])
    for level, (rows, forecast) in enumerate(
        zip(groups, _forecast_blocks(blocks), strict=True), start=1
    ):
        total[rows] += forecast / level
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(levels > 0, total / np.maximum(levels, 1), 0.0)
