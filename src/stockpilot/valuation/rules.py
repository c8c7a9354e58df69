"""Valuation rules: pure functions over the state of one item in one valuation area.

An **area** is a site's own stock or one of its in-transit locations. Each holds a quantity
and a value (micro-units); a FIFO area also holds its open cost layers per lot, in the order
they were posted. Issues take value out by the area's method, receipts put value in:

- **FIFO** — an issue consumes the open layers *of the lot that moved*, oldest posted first;
  a part of a layer takes its exact share of the layer's remaining value.
- **Moving average** — an issue takes ``value × q / quantity`` of the area (all of it when
  the area empties), so the average never drifts and no remainder is left behind.
- **Standard** — receipts are booked at the standard cost; what was paid above (or below) it
  is the purchase-price variance. Issues take their share of the area like an average, which
  is the standard cost as long as the standard has not changed since the stock came in.

A transfer carries what it consumed: FIFO slices keep their unit cost and receipt time in the
area they enter (layer aging survives transit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from stockpilot.valuation.money import cost_value, share, unit_of

FIFO, AVERAGE, STANDARD = "fifo", "average", "standard"


@dataclass(slots=True)
class Layer:
    """An open cost layer: what is left of one receipt into one area (one lot)."""

    id: int | None  # None: created by the document being valued
    lot_id: int
    quantity: int
    value: int
    unit_cost: object  # a Decimal, or the driver's value as read (converted only if needed)
    received_at: object  # as the driver stores it
    quantity_received: int = 0
    value_received: int = 0
    taken: int = 0  # units consumed by the document being valued (existing layers)
    taken_value: int = 0


@dataclass(frozen=True, slots=True)
class Slice:
    """Units leaving an area with their value (and, from FIFO, their layer's cost and age)."""

    quantity: int
    value: int
    unit_cost: object  # Decimal | None, or a layer's stored cost
    received_at: object | None


@dataclass(slots=True)
class ItemCosts:
    """What the item master says about cost. ``list_cost`` is the item's ``unit_cost`` as
    read — the last resort for an uncosted receipt, converted only then."""

    method: str
    standard_cost: Decimal | None
    list_cost: object = None

    @property
    def unit_cost(self) -> Decimal | None:
        raw = self.list_cost
        if raw is None or isinstance(raw, Decimal):
            return raw
        return Decimal(str(raw))


@dataclass(slots=True)
class Area:
    """One item in one valuation area, as the document being valued changes it."""

    method: str
    quantity: int = 0
    value: int = 0
    layers: dict[int, list[Layer]] = field(default_factory=dict)
    new_layers: list[Layer] = field(default_factory=list)
    d_quantity: int = 0
    d_value: int = 0
    stored: bool = False  # its balance row exists

    @classmethod
    def opened(cls, stamped: str | None, quantity: int, value: int, costs: ItemCosts) -> Area:
        """An area keeps the method its stock was valued by until it is empty; an empty one
        follows the item's current method."""
        method = stamped if stamped and (quantity or value) else costs.method
        return cls(method, quantity, value, stored=True)


@dataclass(frozen=True, slots=True)
class Issued:
    quantity: int  # the units the area had valued (all of them, unless it predates valuation)
    value: int
    slices: list[Slice]


@dataclass(frozen=True, slots=True)
class Booked:
    value: int  # what the area's value grew by
    price_variance: int  # standard cost: what came in minus what was booked


def issue(area: Area, lot_id: int, quantity: int, now: datetime) -> Issued:
    """Take ``quantity`` units of ``lot_id`` out of ``area`` by its method.

    Units the area never valued (stock on hand from before valuation) leave at no value."""
    valued = min(quantity, area.quantity)
    if valued <= 0:
        return Issued(0, 0, [Slice(quantity, 0, None, None)])
    if area.method == FIFO:
        slices = _consume_layers(area, lot_id, valued)
        value = sum(s.value for s in slices)
        taken = sum(s.quantity for s in slices)
        if taken < valued:  # valued units the layers do not cover: their share of the rest
            rest = _share_outside_layers(area, valued - taken)
            slices.append(Slice(valued - taken, rest, unit_of(rest, valued - taken), None))
            value += rest
    else:
        value = share(area.value, valued, area.quantity)
        slices = [Slice(valued, value, unit_of(value, valued), None)]
    area.quantity -= valued
    area.value -= value
    area.d_quantity -= valued
    area.d_value -= value
    if valued < quantity:
        slices.append(Slice(quantity - valued, 0, None, None))
    return Issued(valued, value, slices)


def _consume_layers(area: Area, lot_id: int, quantity: int) -> list[Slice]:
    out: list[Slice] = []
    left = quantity
    for layer in area.layers.get(lot_id, ()):
        if not left:
            break
        if not layer.quantity:
            continue
        take = min(left, layer.quantity)
        value = share(layer.value, take, layer.quantity)
        layer.quantity -= take
        layer.value -= value
        layer.taken += take
        layer.taken_value += value
        left -= take
        out.append(Slice(take, value, layer.unit_cost, layer.received_at))
    return out


def _share_outside_layers(area: Area, quantity: int) -> int:
    layered_q = sum(ly.quantity for lots in area.layers.values() for ly in lots)
    layered_v = sum(ly.value for lots in area.layers.values() for ly in lots)
    outside_q, outside_v = area.quantity - layered_q, area.value - layered_v
    if outside_q <= 0 or outside_v <= 0:
        return 0
    return share(outside_v, min(quantity, outside_q), outside_q)


def inbound_value(
    area: Area, costs: ItemCosts, quantity: int, unit_cost: Decimal | None
) -> tuple[int, Decimal | None]:
    """The value of units entering ``area`` from outside valuation (a supplier, a customer
    return, a found adjustment): at the line's cost if it has one; otherwise standard items
    at standard, others at the area's average, then at the item's list cost, else nothing."""
    if unit_cost is not None:
        return cost_value(unit_cost, quantity), unit_cost
    if area.method == STANDARD and costs.standard_cost is not None:
        return cost_value(costs.standard_cost, quantity), costs.standard_cost
    if area.quantity > 0:
        return share(area.value, quantity, area.quantity), unit_of(area.value, area.quantity)
    if costs.unit_cost is not None:
        return cost_value(costs.unit_cost, quantity), costs.unit_cost
    return 0, None


def receive(
    area: Area, costs: ItemCosts, lot_id: int, slices: list[Slice], now: datetime
) -> Booked:
    """Put ``slices`` into ``area``: FIFO keeps each as a layer of ``lot_id``; an average adds
    their value; standard books them at the standard cost and returns the variance."""
    quantity = sum(s.quantity for s in slices)
    value = sum(s.value for s in slices)
    if area.method == FIFO:
        lots = area.layers.setdefault(lot_id, [])
        for s in slices:
            if s.quantity <= 0:
                continue
            unit = s.unit_cost if s.unit_cost is not None else unit_of(s.value, s.quantity)
            layer = Layer(
                None, lot_id, s.quantity, s.value, unit, s.received_at or now, s.quantity, s.value
            )
            lots.append(layer)
            area.new_layers.append(layer)
        booked = value
    elif area.method == STANDARD and costs.standard_cost is not None:
        booked = cost_value(costs.standard_cost, quantity)
    else:
        booked = value
    area.quantity += quantity
    area.value += booked
    area.d_quantity += quantity
    area.d_value += booked
    return Booked(booked, value - booked)
