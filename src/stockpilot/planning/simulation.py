"""Vectorised replay of demand against inventory policies (all series at once).

Timing within a period ``t`` (lead-time convention of the engine): receipts due at ``t`` arrive
first, then demand is served from on-hand stock, then — at review periods (``t % R == 0``) — the
inventory position ``IP = net inventory + pipeline`` is compared with ``s``; if ``IP ≤ s`` an
order of ``S − IP`` (raised to MOQ, rounded up to packs) is placed and arrives at period
``t + L + 1`` (``L`` whole periods after the period it was placed in).

Warehouse capacity (``Scenario.inbound_lines_per_period``, ``storage_capacity``): receipts
beyond the inbound lines a period allows, or beyond the storage room left, wait a period.

Levels may change over time: ``reorder_point`` and ``order_up_to`` are either one value per
series or an ``n × T`` matrix (column ``t`` is the policy in force at period ``t``, e.g. a
rolling re-plan); stock, backorders and the pipeline carry over when the levels change. The
first ``warmup`` periods are replayed (to reach a steady stock and pipeline from the start at
``S``, or at an ``opening`` net stock, with nothing on order) but not measured.

Measures per series (over the measured periods): ``fill_rate`` (units served from stock on
hand ÷ units demanded), ``cycle_service_level`` (share of replenishment cycles without a
stockout: a cycle is the ``R`` periods from one receipt opportunity to the next, i.e. ending at
the periods with ``(t − L) mod R = 0``; it has a stockout when some demand in it was not served
from stock or it ends with backorders), ``period_service`` (share of periods with demand and no
shortage), ``average_on_hand``, ``turns`` (annualised served demand ÷ average on-hand),
``stockout_periods``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from stockpilot.planning.policy import round_order_quantity
from stockpilot.planning.stats import FloatArray

__all__ = [
    "Policy",
    "Scenario",
    "backtest",
    "compare_scenarios",
    "scenario_buffers",
    "simulate",
    "static_min_max",
]


@dataclass(frozen=True)
class Policy:
    """(s, S) per series (r, Q is ``S = r + Q``; (R, S) is ``s = S``), lead time and review in
    whole periods, order rounding. ``reorder_point``/``order_up_to``: ``(n,)`` or ``(n, T)``
    (time-varying levels, column per period)."""

    reorder_point: FloatArray
    order_up_to: FloatArray
    lead_time: np.ndarray
    review_period: np.ndarray
    moq: FloatArray | None = None
    pack_size: FloatArray | None = None


@dataclass(frozen=True)
class Scenario:
    """Transforms applied to a replay: demand spike, supplier disruption, lead-time changes."""

    name: str = "baseline"
    demand_spike_pct: float = 0.0
    spike_start: int = 0
    spike_length: int = 0
    disruption_start: int = 0
    disruption_length: int = 0  # no receipts during the window (they arrive after it)
    lead_time_factor: float = 1.0
    lead_time_delay: int = 0
    # Warehouse capacity: at most this many series received per period (0: no limit), and the
    # total on-hand of all series at most this many units (0: no limit). Receipts over either
    # wait for the next period.
    inbound_lines_per_period: int = 0
    storage_capacity: float = 0.0


def static_min_max(mean_demand: FloatArray, lead_time: np.ndarray, review: np.ndarray) -> Policy:
    """Rule of thumb for comparison: min = mean lead-time demand, max = 2 × min."""
    low = np.ceil(mean_demand * lead_time)
    return Policy(low, 2.0 * low, lead_time, review)


def _column(level: FloatArray, t: int) -> FloatArray:
    return level[:, t] if level.ndim == 2 else level


def _receivable(arrivals: FloatArray, t: int, net: FloatArray, sc: Scenario) -> FloatArray:
    """What the warehouse can take in at period ``t`` under the scenario's inbound-line and
    storage limits; the rest of ``arrivals[:, t]`` moves to ``t + 1`` (in place).

    Lines are received in series order, rotated by the period so no series always waits; a
    storage limit scales every receipt by the same share of the room left.
    """
    due = arrivals[:, t].copy()
    if not (sc.inbound_lines_per_period or sc.storage_capacity) or t + 1 >= arrivals.shape[1]:
        return due
    if sc.inbound_lines_per_period:
        lines = np.flatnonzero(due > 0)
        if lines.size > sc.inbound_lines_per_period:
            order = np.roll(lines, -(t % lines.size))
            due[order[sc.inbound_lines_per_period :]] = 0.0
    if sc.storage_capacity:
        room = max(sc.storage_capacity - float(np.maximum(net, 0.0).sum()), 0.0)
        total = float(due.sum())
        if total > room:
            due *= room / total
    arrivals[:, t + 1] += arrivals[:, t] - due
    arrivals[:, t] = due
    return due


def simulate(
    demand: FloatArray,
    policy: Policy,
    scenario: Scenario | None = None,
    lost_sales: bool = False,
    periods_per_year: int = 52,
    warmup: int = 0,
    opening: FloatArray | None = None,
) -> pl.DataFrame:
    """Replay ``demand`` (``n × T``) against ``policy``; one result row per series, measured over
    periods ``warmup..T-1`` (see the module docstring). Net stock starts at ``opening`` (default:
    the first order-up-to level)."""
    sc = scenario or Scenario()
    d = demand.astype(np.float64).copy()
    n, t_len = d.shape
    if sc.demand_spike_pct and sc.spike_length:
        window = slice(sc.spike_start, sc.spike_start + sc.spike_length)
        d[:, window] *= 1.0 + sc.demand_spike_pct / 100.0
    lead = np.ceil(policy.lead_time * sc.lead_time_factor).astype(np.int64) + sc.lead_time_delay
    review = np.maximum(policy.review_period.astype(np.int64), 1)
    moq = np.zeros(n) if policy.moq is None else policy.moq
    pack = np.ones(n) if policy.pack_size is None else policy.pack_size
    reorder = np.asarray(policy.reorder_point, dtype=np.float64)
    up_to = np.asarray(policy.order_up_to, dtype=np.float64)
    horizon = t_len + int(lead.max(initial=0)) + sc.disruption_length + 2
    arrivals = np.zeros((n, horizon))
    net = _column(up_to, 0).copy() if opening is None else np.asarray(opening, np.float64).copy()
    pipeline = np.zeros(n)
    acc = {k: np.zeros(n) for k in ("served", "on_hand", "stockout", "demand_periods", "cycles",
                                    "cycle_stockouts")}  # fmt: skip
    short_in_cycle = np.zeros(n, dtype=bool)
    rows = np.arange(n)
    for t in range(t_len):
        measured = t >= warmup
        arriving = _receivable(arrivals, t, net, sc)
        net += arriving
        pipeline -= arriving
        want = d[:, t]
        got = np.minimum(np.maximum(net, 0.0), want)
        short = want - got > 1e-9
        net = net - got if lost_sales else net - want
        if measured:
            acc["served"] += got
            acc["stockout"] += short
            acc["demand_periods"] += want > 0
            acc["on_hand"] += np.maximum(net, 0.0)
            short_in_cycle |= short
            cycle_end = (t - lead) % review == 0
            acc["cycles"] += cycle_end
            acc["cycle_stockouts"] += cycle_end & (short_in_cycle | (net < -1e-9))
            short_in_cycle &= ~cycle_end
        target = _column(up_to, t)
        position = net + pipeline
        order = np.where(
            (t % review == 0) & (position <= _column(reorder, t)),
            np.maximum(target - position, 0.0),
            0.0,
        )
        order = round_order_quantity(order, moq, pack)
        arrive = t + lead + 1
        if sc.disruption_length:
            blocked = (arrive >= sc.disruption_start) & (
                arrive < sc.disruption_start + sc.disruption_length
            )
            arrive = np.where(blocked, sc.disruption_start + sc.disruption_length, arrive)
        np.add.at(arrivals, (rows, np.minimum(arrive, horizon - 1)), order)
        pipeline += order
    return _measures(d[:, warmup:].sum(axis=1), acc, max(t_len - warmup, 1), sc.name,
                     periods_per_year)  # fmt: skip


def _measures(
    total: FloatArray, acc: dict[str, FloatArray], periods: int, name: str, periods_per_year: int
) -> pl.DataFrame:
    served = acc["served"]
    average_on_hand = acc["on_hand"] / periods
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(total > 0, served / total, 1.0)
        period_service = np.where(
            acc["demand_periods"] > 0, 1.0 - acc["stockout"] / acc["demand_periods"], 1.0
        )
        csl = np.where(acc["cycles"] > 0, 1.0 - acc["cycle_stockouts"] / acc["cycles"], 1.0)
        turns = np.where(
            average_on_hand > 0, served / periods * periods_per_year / average_on_hand, np.nan
        )
    return pl.DataFrame(
        {
            "scenario": [name] * total.size,
            "demand": total,
            "served": served,
            "fill_rate": fill,
            "cycle_service_level": csl,
            "period_service": period_service,
            "average_on_hand": average_on_hand,
            "turns": turns,
            "stockout_periods": acc["stockout"].astype(np.int64),
        }
    )


def compare_scenarios(
    demand: FloatArray, policy: Policy, scenarios: list[Scenario], lost_sales: bool = False
) -> pl.DataFrame:
    """Totals per scenario side by side with the baseline (one row per scenario)."""
    rows = []
    for sc in [Scenario(), *scenarios]:
        res = simulate(demand, policy, sc, lost_sales)
        rows.append(
            {
                "scenario": sc.name,
                "fill_rate": float(
                    res["served"].to_numpy().sum() / max(res["demand"].to_numpy().sum(), 1e-12)
                ),
                "cycle_service_level": float(res["cycle_service_level"].to_numpy().mean()),
                "average_on_hand": float(res["average_on_hand"].sum()),
                "stockout_periods": int(res["stockout_periods"].sum()),
            }
        )
    out = pl.DataFrame(rows)
    base = out.row(0, named=True)
    return out.with_columns(
        (pl.col("fill_rate") - base["fill_rate"]).alias("fill_rate_vs_baseline"),
        (pl.col("average_on_hand") - base["average_on_hand"]).alias("on_hand_vs_baseline"),
    )


def scenario_buffers(
    demand: FloatArray,
    policy: Policy,
    scenarios: list[Scenario],
    lost_sales: bool = False,
    tolerance: float = 0.5,
) -> FloatArray:
    """Per series (rows) and scenario (columns): the smallest buffer ``B`` (whole units) that,
    added to both ``s`` and ``S``, brings the demand the scenario leaves unserved from stock
    back to what the baseline leaves (within ``tolerance`` units) — the contingency stock
    against that scenario (:func:`stockpilot.planning.sourcing.contingency_buffers` prices it).

    Bisection on ``B`` for all series at once (each step one replay): the unserved demand
    falls as ``B`` grows; the search starts from the extra unserved demand (doubled while it
    does not suffice, up to four times).

    >>> p = Policy(np.array([4.0]), np.array([4.0]), np.array([1]), np.array([1]))
    >>> d = np.full((1, 8), 2.0)  # an (R, S) policy that covers 2 a period over L + R = 2
    >>> scenario_buffers(d, p, [Scenario("demand x2", 100.0, spike_length=8)]).tolist()
    [[4.0]]
    """

    def unserved(sc: Scenario, extra: FloatArray) -> FloatArray:
        shifted = Policy(
            policy.reorder_point + (extra if policy.reorder_point.ndim == 1 else extra[:, None]),
            policy.order_up_to + (extra if policy.order_up_to.ndim == 1 else extra[:, None]),
            policy.lead_time,
            policy.review_period,
            policy.moq,
            policy.pack_size,
        )
        res = simulate(demand, shifted, sc, lost_sales)
        return np.asarray(res["demand"].to_numpy() - res["served"].to_numpy(), dtype=np.float64)

    n = demand.shape[0]
    zero = np.zeros(n)
    base = unserved(Scenario(), zero)
    out = np.zeros((n, len(scenarios)))
    for k, sc in enumerate(scenarios):
        low = np.zeros(n)  # not enough (or nothing needed)
        high = np.ceil(np.maximum(unserved(sc, zero) - base, 0.0))  # enough
        short = high > 0
        for _ in range(4):  # a lead time that lets the backlog compound may need more
            enough = unserved(sc, high) <= base + tolerance
            if np.all(enough | ~short):
                break
            low = np.where(short & ~enough, high, low)
            high = np.where(short & ~enough, 2.0 * high, high)
        while np.any(short & (high - low > 1.0)):
            mid = np.where(short, np.floor((low + high) / 2.0), 0.0)
            ok = unserved(sc, mid) <= base + tolerance
            high = np.where(short & ok, mid, high)
            low = np.where(short & ~ok, mid, low)
        out[:, k] = np.where(short, high, 0.0)
    return out


def backtest(
    lines: pl.DataFrame,
    receipts: pl.DataFrame | None,
    items: pl.DataFrame | None,
    config: object,
    holdout: int,
    lost_sales: bool = False,
) -> pl.DataFrame:
    """Plan on all but the last ``holdout`` periods, replay them for the planned policy and the
    static min/max rule; one summary row per demand class and policy."""
    from stockpilot.planning.engine import PlanConfig, plan
    from stockpilot.planning.history import build_demand_history, periods_per_year

    assert isinstance(config, PlanConfig)
    full = build_demand_history(lines, config.period, config.start, config.end)
    cut = full.period_starts[-holdout]
    train_end = (cut - np.timedelta64(1, "D")).astype(object)
    result = plan(
        lines,
        receipts,
        items,
        replace(config, start=full.period_starts[0].astype(object), end=train_end),
    )
    keys = result.policies.select("item", "site").with_row_index("row")
    idx = full.series.join(keys, on=["item", "site"], how="inner", maintain_order="left")
    test = full.demand[idx["series_index"].to_numpy(), -holdout:]
    pol = result.policies[idx["row"].to_numpy()]
    lead = np.ceil(pol["lead_time_periods"].to_numpy() - 1e-9).astype(np.int64)
    review = np.maximum(np.round(pol["review_period_periods"].to_numpy()), 1).astype(np.int64)
    planned = Policy(pol["reorder_point"].to_numpy(), pol["order_up_to"].to_numpy(), lead, review)
    rule = static_min_max(pol["forecast_per_period"].to_numpy(), lead, review)
    ppy = periods_per_year(config.period)
    frames = []
    for name, p in (("planned", planned), ("static_min_max", rule)):
        res = simulate(test, p, lost_sales=lost_sales, periods_per_year=ppy)
        frames.append(
            res.with_columns(
                pl.lit(name).alias("policy"), pol["demand_class"].alias("demand_class")
            )
        )
    return (
        pl.concat(frames)
        .group_by("policy", "demand_class")
        .agg(
            pl.len().alias("series"),
            (pl.col("served").sum() / pl.col("demand").sum()).alias("fill_rate"),
            pl.col("cycle_service_level").mean(),
            pl.col("average_on_hand").sum(),
            pl.col("stockout_periods").sum(),
        )
        .sort("demand_class", "policy")
    )
