"""Pick-face replenishment: refill a forward pick bin from reserve before it runs out.

Plain data in (each pick face with its min/max, on hand, the demand already allocated or
released against it, replenishments already on their way; the reserve stock of the item), a
:class:`ReplenishmentDecision` with its reasons out. No database.

The face's **projected** quantity is ``on hand + inbound − demand``: what will be left once the
picks already asked of it are done. Rules, in order:

1. *Trigger.* In ``demand`` mode a face is replenished when demand against it would take it
   below min (``demand > 0`` and ``projected < min``) — before it runs out, not after. In
   ``top_off`` mode (the warehouse is quiet) every face with ``projected < min`` is refilled,
   demand or not.
2. *Quantity.* Up to max: ``max − projected``, rounded down to whole packs (cases). When not
   even one pack fits under max, no task — unless ``projected < 0`` (released picks would
   short), then one pack, over max, and the reason says by how much.
3. *Reserve cap.* Never more than the reserve holds; when it holds less, all of it.
4. *Sources.* FEFO (earliest expiry first, lots without expiry last, then first received),
   then fewest moves: within the same expiry, the smallest bin that covers what is still
   needed, else the largest, and so on. Expired lots are skipped (with the reason).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from stockpilot.shared.errors import ValidationFailed

__all__ = [
    "Mode",
    "PickFace",
    "ReplenishMove",
    "ReplenishmentDecision",
    "ReserveStock",
    "decide_replenishment",
    "plan_replenishments",
]

Mode = Literal["demand", "top_off"]
_FAR = date.max


def _non_negative(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationFailed(f"{name} must be a whole number of base units", field=name)
        if value < 0:
            raise ValidationFailed(f"{name} must not be negative", field=name)


@dataclass(frozen=True)
class PickFace:
    """One forward pick bin of one item, with its min/max in base units.

    ``quantity_demand`` is allocated or released against this face and not yet picked;
    ``quantity_inbound`` is on replenishment tasks already heading here (counted so that a
    face is never refilled twice); ``pack_quantity`` is the case size moves are made of.
    """

    location_id: int
    item_id: int
    quantity_min: int
    quantity_max: int
    quantity_on_hand: int
    quantity_demand: int = 0
    quantity_inbound: int = 0
    pack_quantity: int = 1
    code: str = ""

    def __post_init__(self) -> None:
        _non_negative(
            self,
            "quantity_min",
            "quantity_max",
            "quantity_on_hand",
            "quantity_demand",
            "quantity_inbound",
            "pack_quantity",
        )
        if self.quantity_min > self.quantity_max:
            raise ValidationFailed(
                "quantity_min must not exceed quantity_max", field="quantity_min"
            )
        if self.pack_quantity < 1:
            raise ValidationFailed("pack_quantity must be at least 1", field="pack_quantity")

    @property
    def quantity_projected(self) -> int:
        return self.quantity_on_hand + self.quantity_inbound - self.quantity_demand

    @property
    def label(self) -> str:
        return self.code or f"location {self.location_id}"


@dataclass(frozen=True)
class ReserveStock:
    """Available (allocatable, unallocated) stock of the item in one reserve bin and lot."""

    location_id: int
    quantity_available: int
    lot_id: int | None = None
    expiry_date: date | None = None
    received_date: date | None = None
    code: str = ""

    def __post_init__(self) -> None:
        _non_negative(self, "quantity_available")

    @property
    def label(self) -> str:
        name = self.code or f"location {self.location_id}"
        if self.lot_id is not None:
            name += f" lot {self.lot_id}"
        if self.expiry_date is not None:
            name += f" (expiry {self.expiry_date.isoformat()})"
        return name


@dataclass(frozen=True)
class ReplenishMove:
    """One leg of a replenishment: ``quantity`` from a reserve bin (and lot) to the face."""

    from_location_id: int
    lot_id: int | None
    quantity: int
    expiry_date: date | None = None


@dataclass(frozen=True)
class ReplenishmentDecision:
    """Whether to replenish ``face``, how much, from where, and why.

    ``urgent`` means released or allocated picks would short without it: the task must be
    done before them (see tasks.priority's replenish-before-pick rule).
    """

    face: PickFace
    replenish: bool
    quantity: int
    moves: tuple[ReplenishMove, ...]
    trigger: Mode | None
    urgent: bool
    reasons: tuple[str, ...] = field(default=())


def _projection(face: PickFace) -> str:
    return (
        f"projected {face.quantity_projected:,} = on hand {face.quantity_on_hand:,}"
        f" + inbound {face.quantity_inbound:,} − demand {face.quantity_demand:,}"
    )


def _trigger(face: PickFace, mode: Mode) -> tuple[bool, str]:
    projected, low = face.quantity_projected, face.quantity_min
    if projected >= low:
        return False, f"{_projection(face)}, at or above min {low:,}: no replenishment"
    if mode == "demand" and face.quantity_demand == 0:
        return False, f"{_projection(face)}, below min {low:,} but no demand: left for top-off"
    return True, f"{_projection(face)}, below min {low:,}"


def _quantity(face: PickFace) -> tuple[int, str]:
    room = face.quantity_max - face.quantity_projected
    pack = face.pack_quantity
    packs = room // pack
    if packs > 0:
        return packs * pack, (
            f"{packs * pack:,} units = {packs:,} pack(s) of {pack:,} up to max"
            f" {face.quantity_max:,} (room {room:,})"
        )
    if face.quantity_projected < 0:
        return pack, (
            f"one pack of {pack:,} exceeds max {face.quantity_max:,} by {pack - room:,}:"
            " moved anyway, released picks would short"
        )
    return 0, f"one pack of {pack:,} does not fit under max {face.quantity_max:,} (room {room:,})"


def _pick_sources(
    reserves: Sequence[ReserveStock], quantity: int
) -> tuple[list[tuple[ReserveStock, int]], int]:
    """FEFO, then fewest moves within the same expiry; returns (source, qty) and what's left."""
    groups: dict[tuple[date, date], list[ReserveStock]] = defaultdict(list)
    for r in reserves:
        if r.quantity_available > 0:
            groups[(r.expiry_date or _FAR, r.received_date or _FAR)].append(r)
    taken: list[tuple[ReserveStock, int]] = []
    left = quantity
    for key in sorted(groups):
        pool = sorted(
            groups[key], key=lambda r: (r.quantity_available, r.location_id, r.lot_id or 0)
        )
        while left > 0 and pool:
            covering = [r for r in pool if r.quantity_available >= left]
            source = covering[0] if covering else pool[-1]  # smallest that covers, else largest
            pool.remove(source)
            qty = min(left, source.quantity_available)
            taken.append((source, qty))
            left -= qty
        if left == 0:
            break
    return taken, left


def decide_replenishment(
    face: PickFace,
    reserves: Sequence[ReserveStock],
    *,
    mode: Mode = "demand",
    today: date | None = None,
) -> ReplenishmentDecision:
    """Replenish ``face`` from ``reserves`` (the item's reserve stock at the site)?

    >>> face = PickFace(location_id=1, item_id=7, quantity_min=10, quantity_max=60,
    ...                 quantity_on_hand=12, quantity_demand=8, pack_quantity=12, code="P-01")
    >>> reserve = [ReserveStock(20, 100, lot_id=2, expiry_date=date(2027, 3, 1), code="R-20"),
    ...            ReserveStock(21, 30, lot_id=1, expiry_date=date(2027, 1, 1), code="R-21")]
    >>> d = decide_replenishment(face, reserve)
    >>> d.replenish, d.quantity, [(m.from_location_id, m.quantity) for m in d.moves]
    (True, 48, [(21, 30), (20, 18)])
    >>> d.reasons[0]
    'projected 4 = on hand 12 + inbound 0 − demand 8, below min 10'
    """
    if mode not in ("demand", "top_off"):
        raise ValidationFailed("mode must be demand or top_off", field="mode")
    triggered, why = _trigger(face, mode)
    if not triggered:
        return ReplenishmentDecision(face, False, 0, (), None, False, (why,))
    reasons = [why]
    urgent = face.quantity_projected < 0
    if urgent:
        reasons.append(f"urgent: released picks would short by {-face.quantity_projected:,}")
    quantity, how = _quantity(face)
    reasons.append(how)
    if quantity == 0:
        return ReplenishmentDecision(face, False, 0, (), mode, urgent, tuple(reasons))
    usable = [
        r for r in reserves if r.expiry_date is None or today is None or r.expiry_date >= today
    ]
    for r in reserves:
        if r not in usable and r.quantity_available > 0:
            reasons.append(f"skipped {r.label}: expired")
    total = sum(r.quantity_available for r in usable)
    if total == 0:
        reasons.append("no reserve stock of this item at the site: the face will run out")
        return ReplenishmentDecision(face, False, 0, (), mode, urgent, tuple(reasons))
    if total < quantity:
        reasons.append(f"capped at the reserve's {total:,} units (all of it)")
        quantity = total
    sources, _ = _pick_sources(usable, quantity)
    moves = tuple(ReplenishMove(s.location_id, s.lot_id, q, s.expiry_date) for s, q in sources)
    reasons += [f"from {s.label}: {q:,}" for s, q in sources]
    return ReplenishmentDecision(face, True, quantity, moves, mode, urgent, tuple(reasons))


def plan_replenishments(
    faces: Sequence[PickFace],
    reserves_by_item: Mapping[int, Sequence[ReserveStock]],
    *,
    mode: Mode = "demand",
    today: date | None = None,
) -> tuple[ReplenishmentDecision, ...]:
    """Decisions for many faces sharing the same reserve stock; only faces to replenish.

    The neediest face goes first (lowest ``projected − min``, urgent ones before all), and what
    one face takes from a reserve bin is gone for the next face of the same item.

    >>> faces = [PickFace(1, 7, 5, 20, 2, quantity_demand=4), PickFace(2, 7, 5, 20, 6, 3)]
    >>> plan = plan_replenishments(faces, {7: [ReserveStock(9, 25)]})
    >>> [(d.face.location_id, d.quantity) for d in plan]
    [(1, 22), (2, 3)]
    """
    left: dict[tuple[int, int, int | None], int] = {}
    decisions = []
    for face in sorted(faces, key=lambda f: (f.quantity_projected - f.quantity_min, f.location_id)):
        pool = [
            ReserveStock(
                r.location_id,
                left.get((face.item_id, r.location_id, r.lot_id), r.quantity_available),
                r.lot_id,
                r.expiry_date,
                r.received_date,
                r.code,
            )
            for r in reserves_by_item.get(face.item_id, ())
        ]
        decision = decide_replenishment(face, pool, mode=mode, today=today)
        for r in pool:
            left.setdefault((face.item_id, r.location_id, r.lot_id), r.quantity_available)
        for m in decision.moves:
            left[(face.item_id, m.from_location_id, m.lot_id)] -= m.quantity
        if decision.replenish:
            decisions.append(decision)
    return tuple(decisions)
