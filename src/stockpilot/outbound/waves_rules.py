"""Wave building and pick lists: which allocated lines are released together, and how they
are split into the lists pickers walk. Pure functions over plain data; the wave service loads
the allocated lines, calls these, and creates one pick task per :class:`PickListLine`.

- **Waves** group lines by route, ship date and/or zone (:func:`group_lines`). Route and ship
  date belong to the order, so an order stays in one wave; by zone an order spreads over
  waves and is consolidated at packing. A size limit splits a group into several waves,
  never splitting an order unless zone is a grouping key.
- **Pick lists** (:func:`build_pick_lists`): ``discrete`` — one order per list; ``batch`` —
  one cart of at most N orders (and M lines), each order given a sort-to-order slot;
  ``zone`` — one list per zone with every order's lines in it. Each list is walked in the
  order of :func:`stockpilot.tasks.pickpath.order_picks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from stockpilot.shared.errors import ValidationFailed
from stockpilot.tasks.pickpath import PickStop, Point, order_picks

__all__ = [
    "GroupBy",
    "PickList",
    "PickListLine",
    "PickMethod",
    "WaveGroup",
    "WaveLine",
    "batch_lists",
    "build_pick_lists",
    "discrete_lists",
    "group_lines",
    "zone_lists",
]

GroupBy = Literal["route", "ship_date", "zone"]
PickMethod = Literal["discrete", "batch", "zone"]
_ORDER_LEVEL = ("route", "ship_date")


@dataclass(frozen=True)
class WaveLine:
    """One allocated line to pick: ``line_id`` is the caller's (allocation or order line) id."""

    line_id: int
    order_id: int
    item_id: int
    quantity: int
    location_id: int
    zone: str | None = None
    route: str | None = None
    ship_date: date | None = None
    walk_sequence: int | None = None
    x: float | None = None
    y: float | None = None


@dataclass(frozen=True)
class WaveGroup:
    """Lines released together; ``key`` holds the grouping values in the order asked."""

    key: tuple[str | date | None, ...]
    label: str
    line_ids: tuple[int, ...]
    order_ids: tuple[int, ...]


@dataclass(frozen=True)
class PickListLine:
    """A line on a pick list: its place in the walk (1-based) and, in a batch, its slot."""

    line_id: int
    order_id: int
    item_id: int
    quantity: int
    location_id: int
    sequence: int
    slot: int | None = None


@dataclass(frozen=True)
class PickList:
    """One list a picker walks: lines in walking order, travel, and the orders it serves.

    ``slots`` maps order id → sort-to-order slot on the cart (batch lists only).
    """

    number: int
    method: PickMethod
    zone: str | None
    order_ids: tuple[int, ...]
    lines: tuple[PickListLine, ...]
    distance: float
    slots: tuple[tuple[int, int], ...] = ()


def _validate(lines: Sequence[WaveLine]) -> None:
    ids = [ln.line_id for ln in lines]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("wave lines repeat a line id", field="line_id")
    for ln in lines:
        if isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int) or ln.quantity <= 0:
            raise ValidationFailed("quantity must be a positive whole number", field="quantity")


def _sort_value(value: str | date | None) -> tuple[int, str]:
    # None sorts last; dates sort as ISO text, which orders them correctly.
    if value is None:
        return (1, "")
    return (0, value.isoformat() if isinstance(value, date) else value)


def _label(by: Sequence[str], key: tuple[str | date | None, ...]) -> str:
    words = []
    for name, value in zip(by, key, strict=True):
        shown = (
            "none" if value is None else (value.isoformat() if isinstance(value, date) else value)
        )
        words.append(f"{name.replace('_', ' ')} {shown}")
    return ", ".join(words)


def group_lines(
    lines: Sequence[WaveLine],
    by: Sequence[GroupBy] = ("route", "ship_date"),
    *,
    max_lines: int | None = None,
) -> tuple[WaveGroup, ...]:
    """Waves of ``lines`` grouped by ``by``, each at most ``max_lines`` lines when given.

    Groups come in key order (missing values last); lines keep their input order (the caller
    passes them in allocation rank). A single order larger than ``max_lines`` still forms one
    wave of its own rather than being split.

    >>> lines = [WaveLine(1, 10, 7, 1, 100, route="NORTH"),
    ...          WaveLine(2, 11, 7, 1, 101, route="EAST"),
    ...          WaveLine(3, 10, 8, 1, 102, route="NORTH"), WaveLine(4, 12, 9, 1, 103)]
    >>> [(g.label, g.line_ids) for g in group_lines(lines, ["route"])]
    [('route EAST', (2,)), ('route NORTH', (1, 3)), ('route none', (4,))]
    """
    _validate(lines)
    for name in by:
        if name not in ("route", "ship_date", "zone"):
            raise ValidationFailed("group by route, ship_date or zone", field="by")
    if max_lines is not None and max_lines < 1:
        raise ValidationFailed("max_lines must be at least 1", field="max_lines")
    groups: dict[tuple[str | date | None, ...], list[WaveLine]] = {}
    for ln in lines:
        groups.setdefault(tuple(getattr(ln, name) for name in by), []).append(ln)
    keep_orders = "zone" not in by
    out = []
    for key in sorted(groups, key=lambda k: tuple(_sort_value(v) for v in k)):
        for chunk in _chunks(groups[key], max_lines, keep_orders):
            out.append(
                WaveGroup(
                    key,
                    _label(by, key),
                    tuple(ln.line_id for ln in chunk),
                    tuple(dict.fromkeys(ln.order_id for ln in chunk)),
                )
            )
    return tuple(out)


def _chunks(
    lines: list[WaveLine], max_lines: int | None, keep_orders: bool
) -> list[list[WaveLine]]:
    if max_lines is None:
        return [lines]
    if not keep_orders:
        return [lines[i : i + max_lines] for i in range(0, len(lines), max_lines)]
    by_order: dict[int, list[WaveLine]] = {}
    for ln in lines:
        by_order.setdefault(ln.order_id, []).append(ln)
    chunks: list[list[WaveLine]] = [[]]
    for order_lines in by_order.values():
        if chunks[-1] and len(chunks[-1]) + len(order_lines) > max_lines:
            chunks.append([])
        chunks[-1].extend(order_lines)
    return chunks


def _sequenced(
    number: int,
    method: PickMethod,
    zone: str | None,
    lines: Sequence[WaveLine],
    start: Point | None,
    slots: dict[int, int] | None = None,
) -> PickList:
    path = order_picks(
        [PickStop(ln.line_id, ln.location_id, ln.walk_sequence, ln.x, ln.y) for ln in lines],
        start=start,
    )
    by_id = {ln.line_id: ln for ln in lines}
    ordered = tuple(
        PickListLine(
            ln.line_id,
            ln.order_id,
            ln.item_id,
            ln.quantity,
            ln.location_id,
            i + 1,
            slots.get(ln.order_id) if slots else None,
        )
        for i, ln in enumerate(by_id[k] for k in path.order)
    )
    return PickList(
        number,
        method,
        zone,
        tuple(dict.fromkeys(ln.order_id for ln in lines)),
        ordered,
        path.distance,
        tuple(slots.items()) if slots else (),
    )


def discrete_lists(
    lines: Sequence[WaveLine], *, start: Point | None = None
) -> tuple[PickList, ...]:
    """One list per order, orders in their first-appearance order.

    >>> lines = [WaveLine(1, 10, 7, 2, 100, walk_sequence=9), WaveLine(2, 11, 7, 1, 101),
    ...          WaveLine(3, 10, 8, 1, 102, walk_sequence=4)]
    >>> [(p.order_ids, [ln.line_id for ln in p.lines]) for p in discrete_lists(lines)]
    [((10,), [3, 1]), ((11,), [2])]
    """
    _validate(lines)
    orders: dict[int, list[WaveLine]] = {}
    for ln in lines:
        orders.setdefault(ln.order_id, []).append(ln)
    return tuple(
        _sequenced(i + 1, "discrete", None, group, start) for i, group in enumerate(orders.values())
    )


def batch_lists(
    lines: Sequence[WaveLine],
    *,
    cart_orders: int,
    cart_lines: int | None = None,
    start: Point | None = None,
) -> tuple[PickList, ...]:
    """Carts of at most ``cart_orders`` orders (and ``cart_lines`` lines); each order gets a
    sort-to-order slot 1…N on its cart. An order never spans two carts; one with more lines
    than a cart takes goes on a cart of its own.

    >>> lines = [WaveLine(i, 10 + i % 3, 7, 1, 100 + i, walk_sequence=i) for i in range(1, 7)]
    >>> carts = batch_lists(lines, cart_orders=2)
    >>> [(c.order_ids, c.slots) for c in carts]
    [((11, 12), ((11, 1), (12, 2))), ((10,), ((10, 1),))]
    >>> [(ln.line_id, ln.slot) for ln in carts[0].lines]
    [(1, 1), (2, 2), (4, 1), (5, 2)]
    """
    _validate(lines)
    if cart_orders < 1:
        raise ValidationFailed("cart_orders must be at least 1", field="cart_orders")
    if cart_lines is not None and cart_lines < 1:
        raise ValidationFailed("cart_lines must be at least 1", field="cart_lines")
    orders: dict[int, list[WaveLine]] = {}
    for ln in lines:
        orders.setdefault(ln.order_id, []).append(ln)
    carts: list[list[int]] = [[]]
    used = 0
    for order_id, order_lines in orders.items():
        full = len(carts[-1]) >= cart_orders or (
            cart_lines is not None and used + len(order_lines) > cart_lines
        )
        if carts[-1] and full:
            carts.append([])
            used = 0
        carts[-1].append(order_id)
        used += len(order_lines)
    out = []
    for i, cart in enumerate(c for c in carts if c):
        slots = {order_id: s + 1 for s, order_id in enumerate(cart)}
        cart_lines_ = [ln for o in cart for ln in orders[o]]
        out.append(_sequenced(i + 1, "batch", None, cart_lines_, start, slots))
    return tuple(out)


def zone_lists(lines: Sequence[WaveLine], *, start: Point | None = None) -> tuple[PickList, ...]:
    """One list per zone (lines without a zone form their own list, last), every order's
    lines of that zone on it; the orders are consolidated after picking.

    >>> lines = [WaveLine(1, 10, 7, 1, 100, zone="B"), WaveLine(2, 11, 7, 1, 101, zone="A"),
    ...          WaveLine(3, 10, 8, 1, 102, zone="A")]
    >>> [(p.zone, p.order_ids) for p in zone_lists(lines)]
    [('A', (11, 10)), ('B', (10,))]
    """
    _validate(lines)
    zones: dict[str | None, list[WaveLine]] = {}
    for ln in lines:
        zones.setdefault(ln.zone, []).append(ln)
    ordered = sorted(zones, key=_sort_value)
    return tuple(_sequenced(i + 1, "zone", z, zones[z], start) for i, z in enumerate(ordered))


def build_pick_lists(
    lines: Sequence[WaveLine],
    method: PickMethod,
    *,
    cart_orders: int = 8,
    cart_lines: int | None = None,
    start: Point | None = None,
) -> tuple[PickList, ...]:
    """Pick lists of one wave by ``method`` (see the three functions above)."""
    if method == "discrete":
        return discrete_lists(lines, start=start)
    if method == "batch":
        return batch_lists(lines, cart_orders=cart_orders, cart_lines=cart_lines, start=start)
    if method == "zone":
        return zone_lists(lines, start=start)
    raise ValidationFailed("method must be discrete, batch or zone", field="method")
