"""Supplier order-value terms in the grouping of purchase proposals.

A supplier may refuse orders below a **minimum order value** and ship free above a
**free-freight threshold**. Purchase proposals are grouped per ``group_key`` (one future purchase
order: supplier and buying site); for each group, with ``value`` = Σ quantity × unit cost:

* below the minimum: if the gap is at most ``top_up_share`` of the minimum, every line is raised
  in proportion to its value, in whole packs, until the minimum is reached (stock bought a little
  earlier); otherwise the group is **held** — its trigger says so and nobody should release it
  until more demand joins it;
* at or above the minimum but below free freight, within ``top_up_share`` of the threshold: the
  lines are raised the same way to the threshold (the freight saved pays for the stock);
* otherwise unchanged.

Every changed or held proposal says why in its trigger; quantities stay multiples of the pack.
Pure: frames in, frame out (the columns of :data:`stockpilot.planning.proposals.PROPOSAL_COLUMNS`).
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

__all__ = ["apply_order_terms"]


def _raise_to(lines: list[dict[str, Any]], target: float, packs: dict[str, float]) -> None:
    """Raise the lines (in place) in proportion to their value, in whole packs, to ``target``."""
    value = sum(float(r["value"]) for r in lines)
    factor = target / value if value > 0 else 1.0
    for r in lines:
        pack = max(packs.get(str(r["item"]), 1.0), 1.0)
        quantity = float(r["quantity"])
        wanted = math.ceil(quantity * factor / pack - 1e-9) * pack
        r["quantity"] = int(max(wanted, quantity))
        r["value"] = r["quantity"] * float(r["unit_cost"] or 0.0)
    short = target - sum(float(r["value"]) for r in lines)
    if short > 1e-9 and lines:  # rounding left it short: one more pack on the dearest line
        top = max(lines, key=lambda r: float(r["unit_cost"] or 0.0))
        pack = max(packs.get(str(top["item"]), 1.0), 1.0)
        cost = float(top["unit_cost"] or 0.0)
        extra = math.ceil(short / max(cost * pack, 1e-9)) * pack
        top["quantity"] = int(float(top["quantity"]) + extra)
        top["value"] = top["quantity"] * cost


def apply_order_terms(
    proposals: pl.DataFrame,
    terms: pl.DataFrame,
    packs: pl.DataFrame | None = None,
    top_up_share: float = 0.25,
) -> pl.DataFrame:
    """``terms``: ``supplier, min_order_value, free_freight_value`` (null: none); ``packs``:
    ``item, pack_size``. Transfer proposals pass through unchanged.

    >>> p = pl.DataFrame({"kind": ["purchase"], "item": ["A"], "site": ["HUB"],
    ...     "from_site": [None], "supplier": ["S1"], "quantity": [90], "unit_cost": [1.0],
    ...     "value": [90.0], "group_key": ["PO:S1:HUB"], "trigger": ["below s"],
    ...     "explanation": ["{}"]})
    >>> t = pl.DataFrame({"supplier": ["S1"], "min_order_value": [100.0],
    ...     "free_freight_value": [None]})
    >>> apply_order_terms(p, t)["quantity"].to_list()
    [100]
    """
    by_supplier = {r["supplier"]: r for r in terms.iter_rows(named=True)}
    pack_of = {} if packs is None else dict(zip(packs["item"], packs["pack_size"], strict=True))
    rows = proposals.to_dicts()
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["kind"] == "purchase" and r["supplier"] in by_supplier:
            groups.setdefault(str(r["group_key"]), []).append(r)
    for lines in groups.values():
        term = by_supplier[lines[0]["supplier"]]
        value = sum(float(r["value"] or 0.0) for r in lines)
        minimum, free = term.get("min_order_value"), term.get("free_freight_value")
        note = None
        if minimum is not None and value < minimum:
            if minimum - value <= top_up_share * minimum:
                _raise_to(lines, float(minimum), pack_of)
                note = f"raised to the supplier's minimum order value {minimum:g} (was {value:g})"
            else:
                note = f"held: order value {value:g} below the supplier's minimum {minimum:g}"
        elif free is not None and value < free and free - value <= top_up_share * free:
            _raise_to(lines, float(free), pack_of)
            note = f"raised to the free-freight threshold {free:g} (was {value:g})"
        if note is not None:
            for r in lines:
                r["trigger"] = f"{r['trigger']}; {note}"
    return pl.DataFrame(rows, schema=proposals.schema)
