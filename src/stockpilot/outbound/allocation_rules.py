"""Allocation rules: which demand is served first, from which lots, and why a line is short.

Pure functions over plain data; the sales-order and transfer services load the facts, call
:func:`allocate`, then raise ``quantity_allocated`` on the stock keys it names (guarded SQL
increments) and record each line's outcome. Nothing here reads or writes the database.

Rules (docs/design/warehouse-rules.md has the worked examples):

1. **Rank.** Same-day route commitments first (cut-off today, earliest cut-off first); then
   priority 1 (highest) … 5, a customer order before a transfer of the same priority; then
   promised date; then order age (created first); then order and line id. Transfer orders
   carry their own priority, :data:`TRANSFER_DEFAULT_PRIORITY` (2) unless set: below urgent
   customer orders (1), above the default customer (3).
2. **Lots.** FEFO: earliest expiry first, lots without expiry last, then a pick face before
   reserve, then first received.
   Expired lots and lots with less remaining shelf life than the customer requires are
   excluded, each with its reason.
3. **Ship complete.** A ship-complete customer's order is allocated whole or not at all.
4. **Substitutes.** When a line is short and its item names substitutes, a customer who
   allows them has the rest allocated from the substitutes (in the item's order); one who
   wants to be asked gets offers instead.
5. **Backorders.** When stock arrives, open backorders are allocated again in the same rank.
6. **Why short.** :func:`classify_shortfall` names the immediate cause from plain facts.
"""

from __future__ import annotations

from collections import ChainMap, defaultdict
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from stockpilot.shared.errors import ValidationFailed

__all__ = [
    "TRANSFER_DEFAULT_PRIORITY",
    "Allocation",
    "AllocationPlan",
    "CustomerRules",
    "DemandLine",
    "LineOutcome",
    "LotChoice",
    "LotExclusion",
    "ShortCause",
    "ShortCauseCode",
    "ShortfallFacts",
    "StockSlot",
    "SubstituteOffer",
    "allocate",
    "choose_lots",
    "classify_shortfall",
    "rank_lines",
    "reallocate_backorders",
]

TRANSFER_DEFAULT_PRIORITY = 2
_LATEST = datetime.max
_FAR = date.max

DemandKind = Literal["customer", "transfer"]
SubstitutePolicy = Literal["never", "offer", "allocate"]


@dataclass(frozen=True)
class DemandLine:
    """One line of outstanding demand (a sales-order or transfer-order line) at one site.

    ``priority`` is the customer's (1 highest … 5) for a sales line; a transfer line carries
    its own, :data:`TRANSFER_DEFAULT_PRIORITY` when None.
    """

    line_id: int
    order_id: int
    item_id: int
    quantity: int
    order_created_at: datetime
    customer_id: int | None = None
    priority: int | None = None
    promised_date: date | None = None
    route_cutoff: datetime | None = None
    kind: DemandKind = "customer"

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise ValidationFailed(
                "quantity must be a whole number of base units", field="quantity"
            )
        if self.quantity <= 0:
            raise ValidationFailed("quantity must be positive", field="quantity")
        if self.priority is not None and not 1 <= self.priority <= 5:
            raise ValidationFailed("priority must be 1 (highest) to 5", field="priority")
        if self.kind not in ("customer", "transfer"):
            raise ValidationFailed("kind must be customer or transfer", field="kind")

    @property
    def effective_priority(self) -> int:
        if self.priority is not None:
            return self.priority
        return TRANSFER_DEFAULT_PRIORITY if self.kind == "transfer" else 3


@dataclass(frozen=True)
class CustomerRules:
    """A customer's allocation terms (defaults: partial shipments, no substitutes, any lot)."""

    customer_id: int
    ship_complete: bool = False
    substitutes: SubstitutePolicy = "never"
    min_remaining_shelf_life_days: int = 0


_DEFAULT_RULES = CustomerRules(customer_id=0)


@dataclass(frozen=True)
class StockSlot:
    """Available (allocatable, unallocated) quantity on one stock key; ``key`` is the caller's
    handle for it (e.g. the balance row id) and comes back on each :class:`Allocation`."""

    key: int
    item_id: int
    quantity_available: int
    lot_id: int | None = None
    expiry_date: date | None = None
    received_date: date | None = None
    location_id: int | None = None
    pick_face: bool = False


@dataclass(frozen=True)
class Allocation:
    """``quantity`` of stock key ``key`` reserved for line ``line_id``."""

    line_id: int
    key: int
    item_id: int
    lot_id: int | None
    quantity: int
    substitute_for: int | None = None


@dataclass(frozen=True)
class LotExclusion:
    key: int
    lot_id: int | None
    reason: str


@dataclass(frozen=True)
class SubstituteOffer:
    """A substitute the customer may accept for the short part of a line."""

    line_id: int
    item_id: int
    substitute_item_id: int
    quantity_available: int


@dataclass(frozen=True)
class LineOutcome:
    """What one line got, in rank order. ``quantity_taken_by_higher_priority`` is the part of
    its shortage that higher-ranked lines of this run consumed (stock that was there at the
    start and would have fitted)."""

    line_id: int
    rank: int
    quantity_requested: int
    quantity_allocated: int
    quantity_short: int
    quantity_taken_by_higher_priority: int
    reasons: tuple[str, ...]
    excluded: tuple[LotExclusion, ...] = ()


@dataclass(frozen=True)
class AllocationPlan:
    allocations: tuple[Allocation, ...]
    lines: tuple[LineOutcome, ...]
    offers: tuple[SubstituteOffer, ...]
    remaining: Mapping[int, int]

    def allocated_to(self, line_id: int) -> int:
        return sum(a.quantity for a in self.allocations if a.line_id == line_id)


def _rank_key(line: DemandLine, today: date) -> tuple[object, ...]:
    cutoff = line.route_cutoff
    same_day = cutoff is not None and cutoff.date() == today
    return (
        0 if same_day else 1,
        cutoff if same_day and cutoff is not None else _LATEST,
        line.effective_priority,
        0 if line.kind == "customer" else 1,
        line.promised_date or _FAR,
        line.order_created_at,
        line.order_id,
        line.line_id,
    )


def _rank_reason(line: DemandLine, today: date) -> str:
    parts = []
    if line.route_cutoff is not None and line.route_cutoff.date() == today:
        parts.append(f"same-day route, cut-off {line.route_cutoff:%H:%M}")
    parts.append(f"{line.kind} priority {line.effective_priority}")
    if line.promised_date is not None:
        parts.append(f"promised {line.promised_date.isoformat()}")
    parts.append(f"ordered {line.order_created_at:%Y-%m-%d %H:%M}")
    return "; ".join(parts)


def rank_lines(lines: Sequence[DemandLine], today: date) -> tuple[DemandLine, ...]:
    """Demand in the order it is served.

    >>> t = datetime(2026, 11, 30, 9, 0)
    >>> lines = [
    ...     DemandLine(1, 10, 7, 5, t, priority=3, promised_date=date(2026, 12, 2)),
    ...     DemandLine(2, 11, 7, 5, t, priority=1, promised_date=date(2026, 12, 5)),
    ...     DemandLine(3, 12, 7, 5, t, kind="transfer"),
    ...     DemandLine(4, 13, 7, 5, t, priority=5, route_cutoff=datetime(2026, 12, 1, 15, 0)),
    ... ]
    >>> [ln.line_id for ln in rank_lines(lines, today=date(2026, 12, 1))]
    [4, 2, 3, 1]
    """
    return tuple(sorted(lines, key=lambda ln: _rank_key(ln, today)))


@dataclass(frozen=True)
class LotChoice:
    takes: tuple[tuple[StockSlot, int], ...]
    quantity_short: int
    excluded: tuple[LotExclusion, ...]


def _fefo(slot: StockSlot) -> tuple[date, bool, date, int, int]:
    # Within the same expiry, a pick face before reserve: each-picks come from the forward
    # bin, and its replenishment from reserve is a task of its own.
    return (
        slot.expiry_date or _FAR,
        not slot.pick_face,
        slot.received_date or _FAR,
        slot.lot_id or 0,
        slot.key,
    )


def _exclusion(slot: StockSlot, today: date, min_days: int) -> str | None:
    if slot.expiry_date is None:
        return None
    lot = f"lot {slot.lot_id}" if slot.lot_id is not None else f"stock key {slot.key}"
    if slot.expiry_date < today:
        return f"{lot} expired on {slot.expiry_date.isoformat()}"
    left = (slot.expiry_date - today).days
    if left < min_days:
        return f"{lot} has {left} days of shelf life left; the customer requires {min_days}"
    return None


def choose_lots(
    quantity: int,
    slots: Sequence[StockSlot],
    *,
    today: date,
    min_remaining_shelf_life_days: int = 0,
    remaining: Mapping[int, int] | None = None,
) -> LotChoice:
    """FEFO choice of ``quantity`` among ``slots`` (one item), excluding lots too short-lived.

    ``remaining`` overrides each slot's available quantity (what earlier lines left).

    >>> slots = [StockSlot(1, 7, 50, lot_id=1, expiry_date=date(2026, 12, 20)),
    ...          StockSlot(2, 7, 50, lot_id=2, expiry_date=date(2027, 6, 1)),
    ...          StockSlot(3, 7, 50, lot_id=3, expiry_date=date(2027, 2, 1))]
    >>> choice = choose_lots(70, slots, today=date(2026, 12, 1), min_remaining_shelf_life_days=30)
    >>> [(s.lot_id, q) for s, q in choice.takes], choice.quantity_short
    ([(3, 50), (2, 20)], 0)
    >>> choice.excluded[0].reason
    'lot 1 has 19 days of shelf life left; the customer requires 30'
    """
    takes: list[tuple[StockSlot, int]] = []
    excluded: list[LotExclusion] = []
    left = quantity
    for slot in sorted(slots, key=_fefo):
        available = slot.quantity_available if remaining is None else remaining.get(slot.key, 0)
        if available <= 0:
            continue
        why = _exclusion(slot, today, min_remaining_shelf_life_days)
        if why is not None:
            excluded.append(LotExclusion(slot.key, slot.lot_id, why))
            continue
        if left == 0:
            continue
        qty = min(left, available)
        takes.append((slot, qty))
        left -= qty
    return LotChoice(tuple(takes), left, tuple(excluded))


@dataclass
class _Run:
    """The mutable state of one allocation run (kept private: callers see only results)."""

    today: date
    remaining: dict[int, int]
    by_item: dict[int, list[StockSlot]]
    substitutes: Mapping[int, Sequence[int]]
    eligible_keys: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)


def _eligible(run: _Run, item_id: int, min_days: int) -> int:
    # Which keys a shelf life admits does not change during a run: decided once per pair.
    keys = run.eligible_keys.get((item_id, min_days))
    if keys is None:
        keys = run.eligible_keys[(item_id, min_days)] = tuple(
            s.key
            for s in run.by_item.get(item_id, ())
            if _exclusion(s, run.today, min_days) is None
        )
    remaining = run.remaining
    return sum(remaining[k] for k in keys)


def _fill(
    run: _Run, line: DemandLine, rules: CustomerRules, pool: MutableMapping[int, int]
) -> tuple[list[Allocation], list[SubstituteOffer], list[str], list[LotExclusion], int]:
    """Allocate one line against ``pool`` (changed in place); returns what it got and why."""
    min_days = rules.min_remaining_shelf_life_days
    choice = choose_lots(
        line.quantity,
        run.by_item.get(line.item_id, ()),
        today=run.today,
        min_remaining_shelf_life_days=min_days,
        remaining=pool,
    )
    allocs = [Allocation(line.line_id, s.key, s.item_id, s.lot_id, q) for s, q in choice.takes]
    reasons = [
        f"lot {s.lot_id}: {q:,}" if s.lot_id is not None else f"stock key {s.key}: {q:,}"
        for s, q in choice.takes
    ]
    for s, q in choice.takes:
        pool[s.key] -= q
    offers: list[SubstituteOffer] = []
    short = choice.quantity_short
    for sub in (
        run.substitutes.get(line.item_id, ()) if short and rules.substitutes != "never" else ()
    ):
        if short == 0:
            break
        got = choose_lots(
            short,
            run.by_item.get(sub, ()),
            today=run.today,
            min_remaining_shelf_life_days=min_days,
            remaining=pool,
        )
        have = short - got.quantity_short
        if have == 0:
            continue
        if rules.substitutes == "offer":
            offers.append(SubstituteOffer(line.line_id, line.item_id, sub, have))
            continue
        for s, q in got.takes:
            allocs.append(Allocation(line.line_id, s.key, s.item_id, s.lot_id, q, line.item_id))
            pool[s.key] -= q
        reasons.append(f"substituted {have:,} by item {sub} (the customer allows substitutes)")
        short = got.quantity_short
    return allocs, offers, reasons, list(choice.excluded), short


def allocate(
    lines: Sequence[DemandLine],
    stock: Sequence[StockSlot],
    *,
    today: date,
    customers: Mapping[int, CustomerRules] | None = None,
    substitutes: Mapping[int, Sequence[int]] | None = None,
) -> AllocationPlan:
    """Allocate ``lines`` against ``stock`` in rank order; never more than a slot holds.

    >>> t = datetime(2026, 11, 30, 9, 0)
    >>> stock = [StockSlot(key=1, item_id=7, quantity_available=8)]
    >>> lines = [DemandLine(1, 10, 7, 5, t, customer_id=100, priority=3),
    ...          DemandLine(2, 11, 7, 5, t, customer_id=200, priority=1)]
    >>> plan = allocate(lines, stock, today=date(2026, 12, 1))
    >>> [(o.line_id, o.quantity_allocated, o.quantity_short) for o in plan.lines]
    [(2, 5, 0), (1, 3, 2)]
    >>> plan.lines[1].quantity_taken_by_higher_priority
    2
    """
    customers = customers or {}
    by_item: dict[int, list[StockSlot]] = defaultdict(list)
    remaining: dict[int, int] = {}
    for s in stock:
        if s.key in remaining:
            raise ValidationFailed(f"stock key {s.key} appears twice", field="key")
        if s.quantity_available < 0:
            raise ValidationFailed(
                "quantity_available must not be negative", field="quantity_available"
            )
        by_item[s.item_id].append(s)
        remaining[s.key] = s.quantity_available
    run = _Run(today, remaining, by_item, substitutes or {})
    ranked = rank_lines(lines, today)
    if len({ln.line_id for ln in ranked}) != len(ranked):
        raise ValidationFailed("demand lines repeat a line id", field="line_id")
    # Before any take, what is eligible depends only on the item and the shelf life asked:
    # computed once per pair, not once per line (a wave has many lines per item).
    eligible_at_start: dict[tuple[int, int], int] = {}
    start = {}
    for ln in ranked:
        pair = (ln.item_id, _rules(ln, customers).min_remaining_shelf_life_days)
        if pair not in eligible_at_start:
            eligible_at_start[pair] = _eligible(run, *pair)
        start[ln.line_id] = eligible_at_start[pair]
    by_order: dict[tuple[str, int], list[DemandLine]] = defaultdict(list)
    for ln in ranked:
        by_order[(ln.kind, ln.order_id)].append(ln)
    for (kind, order_id), group in by_order.items():
        if len({g.customer_id for g in group}) > 1:
            raise ValidationFailed(
                f"{kind} order {order_id} has lines of several customers", field="customer_id"
            )
    allocations: list[Allocation] = []
    offers: list[SubstituteOffer] = []
    outcomes: dict[int, LineOutcome] = {}
    rank = {ln.line_id: i + 1 for i, ln in enumerate(ranked)}
    at_turn: dict[int, int] = {}
    for ln in ranked:
        if ln.line_id in outcomes:
            continue
        rules = _rules(ln, customers)
        group = by_order[(ln.kind, ln.order_id)] if rules.ship_complete else [ln]
        for g in group:
            at_turn[g.line_id] = _eligible(run, g.item_id, rules.min_remaining_shelf_life_days)
        # Tentative takes of a ship-complete order go to the chain's first map, so a refusal
        # leaves the run untouched without copying every stock key; a partial line keeps
        # whatever it gets and takes straight from the run.
        tentative: dict[int, int] = {}
        pool: MutableMapping[int, int] = (
            ChainMap(tentative, run.remaining) if rules.ship_complete else run.remaining
        )
        results = [(g, _fill(run, g, rules, pool)) for g in group]
        if rules.ship_complete:
            if not all(r[4] == 0 for _, r in results):
                short_ids = ", ".join(str(g.line_id) for g, r in results if r[4])
                for g, r in results:
                    why = f"ship complete: line(s) {short_ids} cannot be filled, nothing allocated"
                    outcomes[g.line_id] = _outcome(g, rank, 0, start, at_turn, run, (why,), r[3])
                continue
            run.remaining.update(tentative)
        for g, (allocs, offs, reasons, excluded, short) in results:
            allocations += allocs
            offers += offs
            got = g.quantity - short
            outcomes[g.line_id] = _outcome(
                g, rank, got, start, at_turn, run, tuple(reasons), excluded
            )
    return AllocationPlan(
        tuple(allocations),
        tuple(sorted(outcomes.values(), key=lambda o: o.rank)),
        tuple(offers),
        dict(run.remaining),
    )


def _rules(line: DemandLine, customers: Mapping[int, CustomerRules]) -> CustomerRules:
    if line.customer_id is None:
        return _DEFAULT_RULES
    return customers.get(line.customer_id, _DEFAULT_RULES)


def _outcome(
    line: DemandLine,
    rank: Mapping[int, int],
    got: int,
    start: Mapping[int, int],
    at_turn: Mapping[int, int],
    run: _Run,
    reasons: tuple[str, ...],
    excluded: list[LotExclusion],
) -> LineOutcome:
    short = line.quantity - got
    # What higher-ranked lines took: the eligible stock they consumed before this line's turn.
    taken = min(short, max(0, start[line.line_id] - at_turn[line.line_id]))
    head = f"rank {rank[line.line_id]}: {_rank_reason(line, run.today)}"
    tail = (f"short {short:,}",) if short else ()
    return LineOutcome(
        line.line_id,
        rank[line.line_id],
        line.quantity,
        got,
        short,
        taken,
        (head, *reasons, *tail),
        tuple(excluded),
    )


def reallocate_backorders(
    backorders: Sequence[DemandLine],
    stock: Sequence[StockSlot],
    *,
    today: date,
    customers: Mapping[int, CustomerRules] | None = None,
    substitutes: Mapping[int, Sequence[int]] | None = None,
) -> AllocationPlan:
    """Stock has arrived: allocate the open backorders (their outstanding quantity) in rank
    order, exactly as a fresh allocation would — an earlier backorder does not jump a
    higher-priority one.

    >>> t = datetime(2026, 11, 20, 9, 0)
    >>> waiting = [DemandLine(1, 10, 7, 4, t, priority=4), DemandLine(2, 11, 7, 4, t, priority=2)]
    >>> plan = reallocate_backorders(waiting, [StockSlot(5, 7, 6)], today=date(2026, 12, 1))
    >>> [(o.line_id, o.quantity_allocated) for o in plan.lines]
    [(2, 4), (1, 2)]
    """
    return allocate(backorders, stock, today=today, customers=customers, substitutes=substitutes)


ShortCauseCode = Literal[
    "no_stock_at_site",
    "blocking_status_only",
    "pick_face_empty_reserve_has_stock",
    "taken_by_higher_priority",
    "waited_receipt_late",
]


@dataclass(frozen=True)
class ShortfallFacts:
    """What was true when a line came up short (or late), as the service reads it.

    Quantities are at the line's site, in base units, at the time of the allocation (``stage``
    ``allocation``) or of the pick (``pick``). ``awaited_receipt_*`` describe the inbound line
    the demand was waiting for, if any (received None = not yet received).
    """

    quantity_short: int
    stage: Literal["allocation", "pick"] = "allocation"
    quantity_on_hand: int = 0
    quantity_allocatable: int = 0
    quantity_taken_by_higher_priority: int = 0
    quantity_reserve_available: int = 0
    needed_by: date | None = None
    awaited_receipt_expected: date | None = None
    awaited_receipt_received: date | None = None
    today: date | None = None


@dataclass(frozen=True)
class ShortCause:
    """The immediate cause, its reason, and any other causes that also held."""

    code: ShortCauseCode
    reason: str
    also: tuple[ShortCauseCode, ...] = ()


def _receipt_late(f: ShortfallFacts) -> bool:
    expected = f.awaited_receipt_expected
    if expected is None or (f.needed_by is not None and expected > f.needed_by):
        return False  # nothing awaited, or it was never due in time: not the receipt's fault
    if f.awaited_receipt_received is not None:
        return f.awaited_receipt_received > expected
    return f.today is not None and f.today > expected


def classify_shortfall(facts: ShortfallFacts) -> ShortCause:
    """The immediate cause of a short (or late) line, checked in this order:

    1. ``pick_face_empty_reserve_has_stock`` — short at the pick while reserve held stock;
    2. ``taken_by_higher_priority`` — allocatable stock existed, higher-ranked demand took it;
    3. ``blocking_status_only`` — stock on hand, but only in non-allocatable statuses;
    4. ``waited_receipt_late`` — the receipt due in time for the line arrived late (or not yet);
    5. ``no_stock_at_site`` — none of the above.

    >>> cause = classify_shortfall(ShortfallFacts(quantity_short=4, quantity_on_hand=10))
    >>> cause.code, cause.reason
    ('blocking_status_only', '10 on hand, none allocatable (blocking status)')
    """
    f = facts
    found: list[tuple[ShortCauseCode, str]] = []
    if f.stage == "pick" and f.quantity_reserve_available > 0:
        found.append(
            (
                "pick_face_empty_reserve_has_stock",
                f"pick face short by {f.quantity_short:,} while reserve held "
                f"{f.quantity_reserve_available:,}",
            )
        )
    if f.quantity_taken_by_higher_priority > 0:
        found.append(
            (
                "taken_by_higher_priority",
                f"{f.quantity_taken_by_higher_priority:,} taken by higher-priority demand",
            )
        )
    blocked = f.quantity_on_hand - f.quantity_allocatable
    if blocked > 0:
        found.append(
            (
                "blocking_status_only",
                f"{f.quantity_on_hand:,} on hand, "
                + ("none" if f.quantity_allocatable == 0 else f"only {f.quantity_allocatable:,}")
                + " allocatable (blocking status)",
            )
        )
    if _receipt_late(f):
        got = f.awaited_receipt_received
        when = f"received {got.isoformat()}" if got else "not received yet"
        expected = f.awaited_receipt_expected.isoformat() if f.awaited_receipt_expected else "?"
        found.append(("waited_receipt_late", f"awaited receipt due {expected}, {when}"))
    if not found:
        return ShortCause(
            "no_stock_at_site", f"no stock of the item at the site ({f.quantity_short:,} short)"
        )
    (code, reason), *rest = found
    return ShortCause(code, reason, tuple(c for c, _ in rest))
