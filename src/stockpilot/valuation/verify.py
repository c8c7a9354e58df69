"""Reconciliation of valuation: every value balance against the value ledger (entries in minus
out) and, for FIFO areas, against the open cost layers. Drift must be zero."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.valuation_tables import cost_layer, valuation_balance, valuation_entry


@dataclass(frozen=True)
class ValueDrift:
    """One valuation area whose ``field`` differs from what its sources say. Values are in
    micro-units of the currency, quantities in base units."""

    item_id: int
    site_id: int
    transit_location_id: int
    field: str  # quantity | value (against the entries); layer_quantity | layer_value (FIFO)
    expected: int
    actual: int


def verify_values(conn: Connection) -> tuple[int, list[ValueDrift]]:
    """``(areas checked, drifts)``."""
    area = (valuation_entry.c.item_id, valuation_entry.c.site_id,
            valuation_entry.c.transit_location_id)  # fmt: skip
    ledger = {
        (int(r[0]), int(r[1]), int(r[2])): (int(r[3]), int(r[4]))
        for r in conn.execute(
            sa.select(
                *area,
                sa.func.sum(valuation_entry.c.quantity),
                sa.func.sum(valuation_entry.c.value),
            ).group_by(*area)
        )
    }
    lkey = (cost_layer.c.item_id, cost_layer.c.site_id, cost_layer.c.transit_location_id)
    layers = {
        (int(r[0]), int(r[1]), int(r[2])): (int(r[3]), int(r[4]))
        for r in conn.execute(
            sa.select(
                *lkey,
                sa.func.sum(cost_layer.c.quantity_remaining),
                sa.func.sum(cost_layer.c.value_remaining),
            )
            .where(cost_layer.c.quantity_remaining > 0)
            .group_by(*lkey)
        )
    }
    drifts: list[ValueDrift] = []
    checked = 0
    for r in conn.execute(
        sa.select(
            valuation_balance.c.item_id,
            valuation_balance.c.site_id,
            valuation_balance.c.transit_location_id,
            valuation_balance.c.cost_method,
            valuation_balance.c.quantity,
            valuation_balance.c.value,
        )
    ):
        checked += 1
        key = (int(r.item_id), int(r.site_id), int(r.transit_location_id))
        quantity, value = int(r.quantity), int(r.value)
        want_q, want_v = ledger.pop(key, (0, 0))
        if want_q != quantity:
            drifts.append(ValueDrift(*key, "quantity", want_q, quantity))
        if want_v != value:
            drifts.append(ValueDrift(*key, "value", want_v, value))
        layer_q, layer_v = layers.pop(key, (0, 0))
        if r.cost_method == "fifo" and (quantity or value or layer_q):
            if layer_v != value:
                drifts.append(ValueDrift(*key, "layer_value", layer_v, value))
            if layer_q != quantity:
                drifts.append(ValueDrift(*key, "layer_quantity", layer_q, quantity))
    for key, (want_q, want_v) in ledger.items():
        if want_q or want_v:
            drifts.append(ValueDrift(*key, "value", want_v, 0))
    for key, (_, layer_v) in layers.items():
        drifts.append(ValueDrift(*key, "layer_value", layer_v, 0))
    return checked, drifts
