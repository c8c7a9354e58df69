"""Which policy each item-location follows: stock it, make (buy) it to order, fulfil it by
transfer from the hub, or phase it out — by default rules per segment, overridable per row.

Policy types and what the engine does with them:

* ``stock`` — the (s, S) policy of the engine.
* ``make_to_order`` — no stock; an order is placed for what customers ordered
  (``s = −1, S = 0``: a position below zero, i.e. backorders, is bought exactly).
* ``transfer_fulfilled`` — a branch holds nothing and its orders are shipped from its hub
  (the same levels at the branch; the proposals pass its backorders to the hub as transfers).
* ``phase_out`` — stop reordering and sell down (``s = −1, S = 0``); all stock on hand is
  excess (``excess_flag``) and only what is already sold is bought.

Default rules, first match wins (thresholds in :class:`SegmentPolicyConfig`); critical
item-locations always stock:

1. ``phase_out``: a C item whose demand over the last ``recent_periods`` is below
   ``phase_out_share`` of its earlier rate per period (a dying item), or that sold nothing in
   them while it sold before.
2. ``make_to_order``: intermittent or lumpy demand with at most ``mto_max_occurrences_per_year``
   demand periods a year, a unit value in the top ``mto_value_quantile`` of the item-locations
   (margin at stake in stock), and a lead time of at most ``mto_max_lead_periods`` (the
   customer can wait for it: low lead-time risk).
3. ``transfer_fulfilled``: a branch (a site replenished from a hub) where the item is C and
   sells less than ``branch_max_rate`` units per period.
4. ``stock`` otherwise.

A ``policy_type`` given per item-location (``items.policy_type``) overrides the rule; the reason
says which rule or the override decided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockpilot.planning.stats import FloatArray

__all__ = [
    "POLICY_TYPES",
    "SegmentPolicies",
    "SegmentPolicyConfig",
    "apply_segment_policies",
    "assign_segment_policies",
]

POLICY_TYPES = ("stock", "make_to_order", "transfer_fulfilled", "phase_out")


@dataclass(frozen=True)
class SegmentPolicyConfig:
    recent_periods: int = 13
    phase_out_share: float = 0.2
    mto_max_occurrences_per_year: float = 4.0
    mto_value_quantile: float = 0.8
    mto_max_lead_periods: float = 2.0
    branch_max_rate: float = 0.5


@dataclass(frozen=True)
class SegmentPolicies:
    """Per item-location: ``policy_type`` (one of :data:`POLICY_TYPES`) and ``reason``."""

    policy_type: npt.NDArray[np.str_]
    reason: npt.NDArray[np.str_]


def assign_segment_policies(
    demand: FloatArray,
    abc: npt.NDArray[np.str_],
    demand_class: npt.NDArray[np.str_],
    unit_cost: FloatArray,
    lead_time_periods: FloatArray,
    critical: npt.NDArray[np.bool_],
    is_branch: npt.NDArray[np.bool_],
    periods_per_year: int,
    override: npt.NDArray[np.str_] | None = None,
    config: SegmentPolicyConfig | None = None,
) -> SegmentPolicies:
    """The policy type of every row of ``demand`` (``(n, T)`` per period) by the rules above.

    >>> demand = np.array([[5.0] * 20 + [0.0] * 13, [5.0] * 33])
    >>> p = assign_segment_policies(
    ...     demand, np.array(["C", "C"]), np.array(["smooth", "smooth"]), np.ones(2),
    ...     np.ones(2), np.zeros(2, bool), np.zeros(2, bool), 52)
    >>> p.policy_type.tolist()
    ['phase_out', 'stock']
    """
    cfg = config or SegmentPolicyConfig()
    n, t_len = demand.shape
    recent = min(cfg.recent_periods, max(t_len - 1, 0))
    policy = np.full(n, "stock", dtype="<U18")
    reason = np.full(n, "default: (s, S) stock policy", dtype="<U80")
    if recent > 0:
        recent_rate = demand[:, t_len - recent :].mean(axis=1)
        earlier_rate = demand[:, : t_len - recent].mean(axis=1)
        dying = (
            (abc == "C") & (earlier_rate > 0) & (recent_rate < cfg.phase_out_share * earlier_rate)
        )
        policy[dying] = "phase_out"
        reason[dying] = f"C item selling under {cfg.phase_out_share:.0%} of its earlier rate"
    years = max(t_len / periods_per_year, 1e-9)
    occurrences = (demand > 0).sum(axis=1) / years
    valuable = unit_cost >= np.quantile(unit_cost, cfg.mto_value_quantile) if n else unit_cost > 0
    mto = (
        (policy == "stock")
        & np.isin(demand_class, ["intermittent", "lumpy"])
        & (occurrences <= cfg.mto_max_occurrences_per_year)
        & valuable
        & (lead_time_periods <= cfg.mto_max_lead_periods)
    )
    policy[mto] = "make_to_order"
    reason[mto] = "rare, valuable demand with a short lead time"
    rate = demand.mean(axis=1)
    branch = (policy == "stock") & is_branch & (abc == "C") & (rate < cfg.branch_max_rate)
    policy[branch] = "transfer_fulfilled"
    reason[branch] = "slow C item at a branch: shipped from the hub"
    policy[critical] = "stock"
    reason[critical] = "critical: always stocked"
    if override is not None:
        given = np.isin(override, POLICY_TYPES)
        policy[given] = override[given]
        reason[given] = "override per item-location"
    return SegmentPolicies(policy.astype(str), reason.astype(str))


def apply_segment_policies(
    policies: SegmentPolicies,
    reorder_point: FloatArray,
    order_up_to: FloatArray,
    safety_stock: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Levels under the policy types: the non-stock rows get ``s = −1, S = 0`` (they buy or ship
    exactly what customers ordered) and no safety stock; ``phase_out`` rows flag their stock as
    excess. Returns ``reorder_point, order_up_to, safety_stock, excess_flag``.

    >>> p = SegmentPolicies(np.array(["stock", "make_to_order"]), np.array(["", ""]))
    >>> s, up, ss, excess = apply_segment_policies(p, np.array([10.0, 4.0]),
    ...     np.array([20.0, 6.0]), np.array([3.0, 1.0]))
    >>> s.tolist(), up.tolist(), ss.tolist(), excess.tolist()
    ([10.0, -1.0], [20.0, 0.0], [3.0, 0.0], [False, False])
    """
    none = policies.policy_type != "stock"
    return (
        np.where(none, -1.0, reorder_point),
        np.where(none, 0.0, order_up_to),
        np.where(none, 0.0, safety_stock),
        np.asarray(policies.policy_type == "phase_out"),
    )
