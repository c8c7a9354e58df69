"""Landed cost: freight, duty or handling that arrives after a receipt, allocated to its lines
by quantity, value or weight.

A line's share goes into the stock still on hand from it — a FIFO item's layers of that
receipt (their unit cost rises), an average item's balance — and the part on units already
gone is recorded as price variance (there is no stock left to carry it). A standard item's
stock stays at standard: its share is all variance. One transaction, one value entry per line
(kind ``landed_cost``), one audit row.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence import journal, raw
from stockpilot.persistence.tables import item, site
from stockpilot.persistence.valuation_tables import cost_layer, valuation_entry
from stockpilot.persistence.warehouse_tables import receipt
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import NotFound, ValidationFailed
from stockpilot.valuation import rules
from stockpilot.valuation.money import MAX_VALUE, render, share, to_micros
from stockpilot.valuation.posting import AreaKey, DocumentRef, load_areas, write_areas

Basis = Literal["quantity", "value", "weight"]


def allocate(amount: int, weights: list[int]) -> list[int]:
    """``amount`` split in proportion to ``weights``, exactly (the last takes the rest)."""
    total = sum(weights)
    parts = [share(amount, w, total) for w in weights[:-1]]
    return [*parts, amount - sum(parts)]


def apply_landed_cost(
    conn: Connection, actor: Actor, receipt_id: int, amount: Decimal, basis: Basis, reason: str
) -> dict[str, Any]:
    found = conn.execute(
        sa.select(receipt.c.site_id, site.c.company_id)
        .join(site, site.c.id == receipt.c.site_id)
        .where(receipt.c.id == receipt_id)
    ).first()
    if found is None or not actor.can_see_site(found.site_id):
        raise NotFound(f"receipt {receipt_id} not found")
    micros = to_micros(amount)
    if not 0 < micros <= MAX_VALUE:
        raise ValidationFailed("amount must be above 0 and at most 10^12", field="amount")
    ve = valuation_entry
    lines = conn.execute(
        sa.select(
            ve.c.item_id, ve.c.lot_id, ve.c.line_no, ve.c.quantity, ve.c.value,
            ve.c.price_variance, item.c.sku, item.c.weight_g,
        )
        .join(item, item.c.id == ve.c.item_id)
        .where(
            ve.c.document_type == "receipt", ve.c.document_id == receipt_id,
            ve.c.kind == "receipt", ve.c.quantity > 0, ve.c.transit_location_id == 0,
        )
        .order_by(ve.c.id)
    ).all()  # fmt: skip
    if not lines:
        raise ValidationFailed(f"receipt {receipt_id} brought in no valued stock", field="receipt")
    weights = [_weight(ln, basis) for ln in lines]
    if sum(weights) <= 0:
        raise ValidationFailed(f"the receipt's lines have no {basis} to share by", field="basis")
    keys = {(int(ln.item_id), int(found.site_id), 0) for ln in lines}
    _, areas = load_areas(conn, keys)
    now = raw.timestamp(conn, utcnow())
    entries: list[tuple[object, ...]] = []
    out = []
    for ln, part in zip(lines, allocate(micros, weights), strict=True):
        key: AreaKey = (int(ln.item_id), int(found.site_id), 0)
        on_hand = _into_stock(conn, areas[key], key, receipt_id, ln, part)
        entries.append(
            (key[0], key[1], 0, int(found.company_id), "landed_cost", "landed_cost", receipt_id,
             ln.line_no, ln.lot_id, 0, on_hand, part - on_hand, reason, now, now,
             actor.user_id)
        )  # fmt: skip
        out.append(
            {
                "sku": ln.sku,
                "line_no": ln.line_no,
                "allocated": render(part),
                "on_hand_value": render(on_hand),
                "price_variance": render(part - on_hand),
            }
        )
    doc = DocumentRef("landed_cost", receipt_id, actor.user_id, reason, now, now)
    write_areas(conn, areas, entries, doc)
    journal.record(
        conn, actor, action="landed_cost.applied", entity_type="receipt", entity_id=receipt_id,
        site_id=int(found.site_id), reason=reason,
        detail={"amount": render(micros), "basis": basis, "lines": len(lines)},
        topic="landed_cost.applied",
    )  # fmt: skip
    return {"receipt": receipt_id, "amount": render(micros), "basis": basis, "lines": out}


def _weight(ln: Any, basis: Basis) -> int:
    if basis == "quantity":
        return int(ln.quantity)
    if basis == "value":
        return int(ln.value) + int(ln.price_variance)
    if ln.weight_g is None:
        raise ValidationFailed(f"{ln.sku} has no weight_g to share by weight", field="basis")
    return int(ln.quantity) * int(ln.weight_g)


def _into_stock(
    conn: Connection, area: rules.Area, key: AreaKey, receipt_id: int, ln: Any, part: int
) -> int:
    """Put the part of ``part`` that is still on hand into the area; returns it."""
    if area.method == rules.STANDARD:
        return 0
    if area.method == rules.FIFO:
        cl = cost_layer
        layers = conn.execute(
            sa.select(cl.c.id, cl.c.quantity_received, cl.c.quantity_remaining)
            .where(
                cl.c.document_type == "receipt", cl.c.document_id == receipt_id,
                cl.c.item_id == key[0], cl.c.site_id == key[1], cl.c.transit_location_id == 0,
                cl.c.lot_id == ln.lot_id,
            )
            .order_by(cl.c.id)
        ).all()  # fmt: skip
        if not layers:
            return 0
        on_hand = 0
        shares = allocate(part, [int(r.quantity_received) for r in layers])
        for layer, layer_part in zip(layers, shares, strict=True):
            kept = share(layer_part, int(layer.quantity_remaining), int(layer.quantity_received))
            if kept:
                conn.execute(
                    cl.update()
                    .where(cl.c.id == layer.id)
                    .values(value_remaining=cl.c.value_remaining + kept)
                )
            on_hand += kept
    else:
        kept_units = min(area.quantity, int(ln.quantity))
        on_hand = share(part, kept_units, int(ln.quantity)) if kept_units > 0 else 0
    area.value += on_hand
    area.d_value += on_hand
    return on_hand
