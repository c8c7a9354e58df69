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
from dataclasses import dataclass

import polars as pl

__all__ = ["OrderLine", "apply_order_terms"]


@dataclass
class OrderLine:
    """One purchase proposal of a group, as the terms see it (``row``: its row in the frame)."""

    row: int
    item: str
    quantity: int
    unit_cost: float

    @property
    def value(self) -> float:
        return self.quantity * self.unit_cost


def _raise_to(lines: list[OrderLine], target: float, packs: dict[str, float]) -> None:
    """Raise the lines (in place) in proportion to their value, in whole packs, to ``target``."""
    value = sum(line.value for line in lines)
    factor = target / value if value > 0 else 1.0
    for line in lines:
        pack = max(packs.get(line.item, 1.0), 1.0)
        wanted = math.ceil(line.quantity * factor / pack - 1e-9) * pack
        line.quantity = int(max(wanted, line.quantity))
    short = target - sum(line.value for line in lines)
    if short > 1e-9 and lines:  # rounding left it short: one more pack on the dearest line
        top = max(lines, key=lambda line: line.unit_cost)
        pack = max(packs.get(top.item, 1.0), 1.0)
        top.quantity = int(top.quantity + math.ceil(short / max(top.unit_cost * pack, 1e-9)) * pack)


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
    groups: dict[tuple[str, str], list[OrderLine]] = {}
    for i, r in enumerate(rows):
        if r["kind"] == "purchase" and r["supplier"] in by_supplier:
            line = OrderLine(i, str(r["item"]), int(r["quantity"]), float(r["unit_cost"] or 0.0))
            groups.setdefault((str(r["group_key"]), str(r["supplier"])), []).append(line)
    for (_, supplier_code), lines in groups.items():
        term = by_supplier[supplier_code]
        value = sum(line.value for line in lines)
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
            for line in lines:
                r = rows[line.row]
                r["quantity"], r["value"] = line.quantity, line.value
                r["trigger"] = f"{r['trigger']}; {note}"
    return pl.DataFrame(rows, schema=proposals.schema)
