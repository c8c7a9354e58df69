"""Replenishment proposals from policies and positions: pure, columnar, explainable.

Inputs (Polars frames):

* ``policies``: ``item, site, reorder_point, order_up_to, safety_stock, forecast_per_period,
  lead_time_periods, service_level, method, demand_class`` — the engine's output.
* ``positions``: ``item, site, on_hand, allocated, backorders, on_order, in_transit`` (in item
  units; ``on_hand`` includes allocated units; ``in_transit`` is stock travelling *to* the site).
* ``sites``: ``site, replenished_from`` (null for a site that buys from suppliers).
* ``sourcing``: ``item, supplier, moq, pack_size, unit_cost``.

The rule, in order:

1. Inventory position ``IP = on_hand + on_order + in_transit − allocated − backorders``. A site
   needs ``S − IP`` when ``IP ≤ s``; it has a surplus of ``min(IP − S, on_hand − allocated)``
   when ``IP > S``.
2. Network balancing before buying: a branch's need is covered first from other sites' surplus
   (hubs first, then the other sites in code order) — transfer proposals. Sites that buy are
   not replenished laterally: their shortage is bought.
3. A branch replenished from a hub passes its remaining need to the hub as a transfer proposal;
   the transfer lowers the hub's inventory position.
4. Sites that buy compare their (lowered) position with their own ``s`` and propose a purchase of
   ``S − IP`` rounded up to the MOQ and the pack size.

Every proposal carries its trigger and an explanation (inputs, formula, numbers) as JSON. The
loops run over sites (a handful), never over items.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from stockpilot.planning.policy import round_order_quantity
from stockpilot.planning.stats import FloatArray

PROPOSAL_COLUMNS = [
    "kind", "item", "site", "from_site", "supplier", "quantity", "unit_cost", "value",
    "group_key", "trigger", "explanation",
]  # fmt: skip


@dataclass(frozen=True)
class _Matrix:
    items: list[str]
    sites: list[str]

    def pivot(self, frame: pl.DataFrame, column: str, default: float = 0.0) -> FloatArray:
        wide = frame.select("item", "site", pl.col(column).cast(pl.Float64)).pivot(
            on="site", index="item", values=column, aggregate_function="sum"
        )
        base = pl.DataFrame({"item": self.items}).join(
            wide, on="item", how="left", maintain_order="left"
        )
        cols = [
            base[s] if s in base.columns else pl.Series(s, [None] * len(self.items))
            for s in self.sites
        ]
        out = np.column_stack([c.cast(pl.Float64).fill_null(default).to_numpy() for c in cols])
        return np.asarray(out, dtype=np.float64).reshape(len(self.items), len(self.sites))


def _site_order(sites: pl.DataFrame) -> tuple[list[str], dict[str, str | None]]:
    parent = dict(zip(sites["site"].to_list(), sites["replenished_from"].to_list(), strict=True))
    hubs = sorted(s for s, p in parent.items() if p is None)
    others = sorted(s for s, p in parent.items() if p is not None)
    return hubs + others, parent


def propose(
    policies: pl.DataFrame,
    positions: pl.DataFrame,
    sites: pl.DataFrame,
    sourcing: pl.DataFrame,
) -> pl.DataFrame:
    """Transfer and purchase proposals (``PROPOSAL_COLUMNS``), one row per item, site and source."""
    order, parent = _site_order(sites)
    items = sorted(set(policies["item"].to_list()))
    mx = _Matrix(items, order)
    s = mx.pivot(policies, "reorder_point", np.inf)
    big_s = mx.pivot(policies, "order_up_to", 0.0)
    on_hand = mx.pivot(positions, "on_hand")
    allocated = mx.pivot(positions, "allocated")
    ip0 = (
        on_hand
        + mx.pivot(positions, "on_order")
        + mx.pivot(positions, "in_transit")
        - allocated
        - mx.pivot(positions, "backorders")
    )
    ip = ip0.copy()
    free = np.maximum(on_hand - allocated, 0.0)
    need = np.where(ip <= s, np.maximum(big_s - ip, 0.0), 0.0)
    surplus = np.where(ip > big_s, np.minimum(ip - big_s, free), 0.0)
    surplus = np.floor(np.maximum(surplus, 0.0))
    need = np.ceil(need)

    rows: list[pl.DataFrame] = []
    col = {site: j for j, site in enumerate(order)}
    for r in order:  # 2. network balancing: surplus anywhere covers a branch's shortage
        if parent[r] is None:
            continue
        for d in order:
            if d == r:
                continue
            take = np.minimum(need[:, col[r]], surplus[:, col[d]])
            if not take.any():
                continue
            need[:, col[r]] -= take
            surplus[:, col[d]] -= take
            ip[:, col[d]] -= take
            ip[:, col[r]] += take
            rows.append(_transfers(mx, take, d, r, "network balancing", ip0, s, big_s, free))
    for b in order:  # 3. branches pass the rest of their need to their hub
        h = parent[b]
        if h is None or h not in col:
            continue
        take = need[:, col[b]].copy()
        if not take.any():
            continue
        need[:, col[b]] = 0.0
        ip[:, col[h]] -= take
        ip[:, col[b]] += take
        rows.append(_transfers(mx, take, h, b, "replenishment from hub", ip0, s, big_s, free))
    for p in order:  # 4. sites that buy
        if parent[p] is not None:
            continue
        j = col[p]
        raw = np.where(ip[:, j] <= s[:, j], np.maximum(big_s[:, j] - ip[:, j], 0.0), 0.0)
        rows.append(_purchases(mx, raw, p, ip0[:, j], ip[:, j], s[:, j], big_s[:, j], sourcing))
    frames = [f for f in rows if f.height]
    if not frames:
        return _empty()
    out = pl.concat(frames, how="diagonal_relaxed")
    return _with_explanations(out, policies)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "kind": pl.String,
            "item": pl.String,
            "site": pl.String,
            "from_site": pl.String,
            "supplier": pl.String,
            "quantity": pl.Int64,
            "unit_cost": pl.Float64,
            "value": pl.Float64,
            "group_key": pl.String,
            "trigger": pl.String,
            "explanation": pl.String,
        }
    )


def _transfers(
    mx: _Matrix,
    take: FloatArray,
    source: str,
    dest: str,
    why: str,
    ip0: FloatArray,
    s: FloatArray,
    big_s: FloatArray,
    free: FloatArray,
) -> pl.DataFrame:
    j, k = mx.sites.index(dest), mx.sites.index(source)
    idx = np.nonzero(take > 0)[0]
    return pl.DataFrame(
        {
            "kind": "transfer",
            "item": pl.Series([mx.items[i] for i in idx], dtype=pl.String),
            "site": dest,
            "from_site": source,
            "quantity": take[idx].astype(np.int64),
            "ip": ip0[idx, j],
            "ip_after": ip0[idx, j] + take[idx],
            "s": s[idx, j],
            "big_s": big_s[idx, j],
            "source_ip": ip0[idx, k],
            "source_free": free[idx, k],
            "source_s": big_s[idx, k],
            "why": why,
        }
    ).with_columns(group_key=pl.lit(f"TO:{source}>{dest}"))


def _purchases(
    mx: _Matrix,
    raw: FloatArray,
    site: str,
    ip0: FloatArray,
    ip: FloatArray,
    s: FloatArray,
    big_s: FloatArray,
    sourcing: pl.DataFrame,
) -> pl.DataFrame:
    idx = np.nonzero(raw > 0)[0]
    frame = pl.DataFrame(
        {
            "item": pl.Series([mx.items[i] for i in idx], dtype=pl.String),
            "raw": raw[idx],
            "ip": ip0[idx],
            "ip_net": ip[idx],
            "s": s[idx],
            "big_s": big_s[idx],
        }
    ).join(sourcing, on="item", how="left", maintain_order="left")
    if frame.height == 0:
        return frame
    qty = round_order_quantity(
        frame["raw"].to_numpy(),
        frame["moq"].fill_null(1).to_numpy(),
        frame["pack_size"].fill_null(1).to_numpy(),
    )
    return frame.with_columns(
        kind=pl.lit("purchase"),
        site=pl.lit(site),
        quantity=pl.Series(qty).cast(pl.Int64),
        group_key=pl.concat_str(
            [pl.lit("PO:"), pl.col("supplier").fill_null("?"), pl.lit(f">{site}")]
        ),
        why=pl.lit("reorder point reached"),
    )


def _with_explanations(out: pl.DataFrame, policies: pl.DataFrame) -> pl.DataFrame:
    """Attach the trigger sentence and a JSON explanation to every proposal."""
    ctx = policies.select(
        "item", "site", "safety_stock", "forecast_per_period", "lead_time_periods",
        "service_level", "method", "demand_class",
    )  # fmt: skip
    out = out.join(ctx, on=["item", "site"], how="left", maintain_order="left")
    for name, dtype in (
        ("unit_cost", pl.Float64),
        ("from_site", pl.String),
        ("supplier", pl.String),
    ):
        if name not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=dtype).alias(name))
    out = out.with_columns(
        value=pl.col("quantity").cast(pl.Float64) * pl.col("unit_cost").cast(pl.Float64)
    )
    records = out.to_dicts()
    triggers, explanations = [], []
    for r in records:  # building text is per proposal, after all numerics are done
        trigger, explanation = _explain(r)
        triggers.append(trigger)
        explanations.append(json.dumps(explanation, separators=(",", ":")))
    return out.with_columns(
        trigger=pl.Series(triggers, dtype=pl.String),
        explanation=pl.Series(explanations, dtype=pl.String),
    ).select(PROPOSAL_COLUMNS)


def _num(value: Any) -> float | None:
    """A number for an explanation; None when there is none — including the infinite reorder
    point that stands for "no policy at this site", which JSON cannot carry."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 3)


def _explain(r: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    inputs = {
        "inventory_position": _num(r.get("ip")),
        "reorder_point": _num(r.get("s")),
        "order_up_to": _num(r.get("big_s")),
        "safety_stock": _num(r.get("safety_stock")),
        "forecast_per_period": _num(r.get("forecast_per_period")),
        "lead_time_periods": _num(r.get("lead_time_periods")),
        "service_level": _num(r.get("service_level")),
        "forecast_method": r.get("method"),
        "demand_class": r.get("demand_class"),
    }
    if r["kind"] == "transfer":
        trigger = (
            f"{r['why']}: inventory position {inputs['inventory_position']} at {r['site']} "
            f"is at or below the reorder point {inputs['reorder_point']}"
        )
        inputs["source_free_on_hand"] = _num(r.get("source_free"))
        inputs["source_inventory_position"] = _num(r.get("source_ip"))
        formula = (
            "transfer = min(S − IP, surplus at source)"
            if r["why"] == "network balancing"
            else "transfer = S − IP − quantity already covered by network balancing"
        )
        return trigger, {"inputs": inputs, "formula": formula, "source": r["from_site"]}
    trigger = (
        f"inventory position {_num(r.get('ip_net'))} at {r['site']} (after transfers out) "
        f"is at or below the reorder point {inputs['reorder_point']}"
    )
    inputs["inventory_position_after_transfers"] = _num(r.get("ip_net"))
    inputs["moq"] = _num(r.get("moq"))
    inputs["pack_size"] = _num(r.get("pack_size"))
    formula = (
        f"order = S − IP = {_num(r.get('raw'))}, rounded up to the MOQ and to whole packs "
        f"= {r['quantity']}"
    )
    return trigger, {"inputs": inputs, "formula": formula, "supplier": r.get("supplier")}
