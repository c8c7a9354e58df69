"""Deterministic dynamic lot sizing: Wagner & Whitin (1958) by dynamic programming.

Used for explanation and what-if on a known demand plan; the engine's default lot size is the
EOQ (:func:`stockpilot.planning.policy.economic_order_quantity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stockpilot.planning.stats import FloatArray

__all__ = ["WagnerWhitinPlan", "wagner_whitin"]


@dataclass(frozen=True)
class WagnerWhitinPlan:
    """Optimal plan. Arrays are 1-indexed by period (index 0 unused), as in S&S §3.6.

    ``order_quantities[t]`` is ordered in period ``t``; ``cost_to_go[t]`` is θ_t, the optimal cost
    of periods ``t..T`` (``cost_to_go[T + 1] = 0``); ``next_order[t]`` is the period of the next
    order when an order is placed in ``t`` (``T + 1`` when none).
    """

    order_quantities: list[float]
    total_cost: float
    cost_to_go: FloatArray
    next_order: list[int]


def wagner_whitin(
    holding_cost: float, fixed_cost: float, demand: Sequence[float]
) -> WagnerWhitinPlan:
    """Wagner–Whitin recursion (S&S eq. 3.40): ``θ_t = min_{s>t} {K + h·Σ_{i=t}^{s−1}(i − t)·d_i
    + θ_s}``, ``θ_{T+1} = 0``; ties go to the earliest next order period.

    >>> plan = wagner_whitin(2, 500, [90, 120, 80, 70])
    >>> plan.order_quantities, plan.total_cost, plan.next_order
    ([0, 210.0, 0, 150.0, 0], 1380.0, [0, 3, 5, 5, 5])
    """
    d = np.asarray(demand, dtype=np.float64)
    horizon = d.size
    theta = np.zeros(horizon + 2)
    next_order = [0] * (horizon + 2)
    for t in range(horizon, 0, -1):
        best_cost, best_s = np.inf, horizon + 1
        carrying = 0.0
        for s in range(t + 1, horizon + 2):
            # demand of period s−1 is carried (s−1−t) periods when ordered in t
            carrying += holding_cost * (s - 1 - t) * d[s - 2]
            cost = fixed_cost + carrying + theta[s]
            if cost < best_cost:
                best_cost, best_s = cost, s
        theta[t], next_order[t] = best_cost, best_s
    quantities: list[float] = [0] * (horizon + 1)
    t = 1
    while t <= horizon:
        s = next_order[t]
        quantities[t] = float(d[t - 1 : s - 1].sum())
        t = s
    return WagnerWhitinPlan(
        quantities, float(theta[1]), theta[: horizon + 2], next_order[: horizon + 1]
    )
