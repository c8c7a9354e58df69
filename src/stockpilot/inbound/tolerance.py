"""Receiving rules: the over/under tolerance of a PO line and the purchase order's states.

Tolerance. Each supplier has a tolerance percentage (5 % unless its record says otherwise).
For one PO line the receipt is judged on the total it brings the line to:

- ``under``: the total stays below the ordered quantity — the line stays open, partially
  received (``may_close_short`` says whether the shortfall is within the tolerance, so a buyer
  may close the line rather than wait for the rest);
- ``within``: from the ordered quantity up to ordered × (1 + tolerance), rounded down to a
  whole unit — accepted, the line is complete;
- ``over``: beyond that — refused, unless a supervisor who is not the receiver approves.

Quantities are whole base units and the percentage is exact (Decimal), so 5 % of 10 units
allows no extra unit at all: 10.5 rounds down to 10.

States. A purchase order is ``draft`` → ``confirmed`` → ``partially_received`` →
``received`` → ``closed``, or ``cancelled`` before anything arrived. ``TRANSITIONS`` lists every
legal step once; `check_transition` is the one place an illegal step is refused, and the
service performs the step as a guarded ``UPDATE … WHERE state = :from`` in the transaction that
posts the receipt. Receipts move a PO between the receiving states by what its lines hold,
which `derive_state` computes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from stockpilot.shared.errors import Conflict, Forbidden, ValidationFailed

DEFAULT_TOLERANCE_PERCENT = Decimal(5)
MAX_TOLERANCE_PERCENT = Decimal(100)

Outcome = Literal["under", "within", "over"]


class OverTolerance(ValidationFailed):
    """A receipt beyond the supplier's tolerance without a valid approval."""


class ApprovalRefused(Forbidden):
    """An approval that does not count: the receiver's own, or from someone without the right."""


@dataclass(frozen=True)
class Approval:
    """Who approves an over-receipt; ``is_supervisor`` is the caller's check of their right."""

    approver: str
    is_supervisor: bool


@dataclass(frozen=True)
class ReceiptDecision:
    """The verdict on receiving ``quantity_receiving`` more on one PO line, with its numbers."""

    outcome: Outcome
    accepted: bool
    quantity_ordered: int
    quantity_received_before: int
    quantity_receiving: int
    quantity_received_after: int
    quantity_allowed: int
    tolerance_percent: Decimal
    approved_by: str | None
    may_close_short: bool
    message: str

    @property
    def line_complete(self) -> bool:
        return self.quantity_received_after >= self.quantity_ordered

    @property
    def quantity_open(self) -> int:
        return max(0, self.quantity_ordered - self.quantity_received_after)

    @property
    def quantity_over(self) -> int:
        return max(0, self.quantity_received_after - self.quantity_ordered)


def supplier_tolerance(percent: Decimal | int | str | None) -> Decimal:
    """The supplier's tolerance percentage: its own value, or the 5 % default when unset."""
    if percent is None:
        return DEFAULT_TOLERANCE_PERCENT
    try:
        value = Decimal(str(percent).strip())
    except InvalidOperation:
        raise ValidationFailed(
            f"tolerance_percent is not a number: {percent!r}", field="tolerance_percent"
        ) from None
    if not value.is_finite() or not 0 <= value <= MAX_TOLERANCE_PERCENT:
        raise ValidationFailed(
            f"tolerance_percent must be between 0 and {MAX_TOLERANCE_PERCENT}, got {percent}",
            field="tolerance_percent",
        )
    return value


def allowed_total(ordered: int, tolerance_percent: Decimal) -> int:
    """The most a line may hold in total: ordered × (1 + tolerance), down to a whole unit."""
    return math.floor(ordered * (1 + Fraction(tolerance_percent) / 100))


def allowed_total_under(ordered: int, tolerance_percent: Decimal) -> int:
    """The least total that is within the tolerance below the order, up to a whole unit."""
    return math.ceil(ordered * (1 - Fraction(tolerance_percent) / 100))


def decide_receipt(
    *,
    ordered: int,
    received_before: int,
    receiving: int,
    tolerance_percent: Decimal = DEFAULT_TOLERANCE_PERCENT,
    receiver: str,
    approval: Approval | None = None,
    field: str = "quantity",
) -> ReceiptDecision:
    """Judge one receipt on one PO line. Bad numbers raise; an over-receipt does not — it
    comes back with ``accepted=False`` (see `ensure_accepted`). An approval is checked only
    when it is needed, and a self-approval or one without the right raises `ApprovalRefused`."""
    _check_quantities(ordered, received_before, receiving, field)
    tolerance = supplier_tolerance(tolerance_percent)
    total = received_before + receiving
    allowed = allowed_total(ordered, tolerance)
    outcome: Outcome = "under" if total < ordered else "within" if total <= allowed else "over"
    approved_by = None
    if outcome == "over" and approval is not None:
        _check_approval(approval, receiver)
        approved_by = approval.approver
    return ReceiptDecision(
        outcome=outcome,
        accepted=outcome != "over" or approved_by is not None,
        quantity_ordered=ordered,
        quantity_received_before=received_before,
        quantity_receiving=receiving,
        quantity_received_after=total,
        quantity_allowed=allowed,
        tolerance_percent=tolerance,
        approved_by=approved_by,
        may_close_short=outcome == "under" and total >= allowed_total_under(ordered, tolerance),
        message=_message(outcome, ordered, received_before, receiving, allowed, tolerance)
        + (f"; approved by {approved_by}" if approved_by else ""),
    )


def ensure_accepted(decision: ReceiptDecision, *, field: str = "quantity") -> ReceiptDecision:
    """Raise `OverTolerance` (422, naming ``field``) for a refused decision; else return it."""
    if not decision.accepted:
        raise OverTolerance(
            decision.message,
            field=field,
            quantity_ordered=decision.quantity_ordered,
            quantity_received_before=decision.quantity_received_before,
            quantity_receiving=decision.quantity_receiving,
            quantity_allowed=decision.quantity_allowed,
            tolerance_percent=str(decision.tolerance_percent),
        )
    return decision


def _check_quantities(ordered: int, received_before: int, receiving: int, field: str) -> None:
    for name, value in (("ordered", ordered), ("received_before", received_before)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationFailed(f"{name} must be a whole number ≥ 0, got {value!r}", field=name)
    if ordered == 0:
        raise ValidationFailed("a PO line orders at least one unit", field="ordered")
    if isinstance(receiving, bool) or not isinstance(receiving, int) or receiving <= 0:
        raise ValidationFailed(
            f"{field} must be a whole number > 0, got {receiving!r}", field=field
        )


def _check_approval(approval: Approval, receiver: str) -> None:
    if approval.approver == receiver:
        raise ApprovalRefused(
            f"{receiver} received the goods and cannot approve their own over-receipt",
            field="approved_by",
        )
    if not approval.is_supervisor:
        raise ApprovalRefused(
            f"{approval.approver} may not approve over-receipts (a supervisor must)",
            field="approved_by",
        )


def _message(
    outcome: Outcome,
    ordered: int,
    before: int,
    receiving: int,
    allowed: int,
    tolerance: Decimal,
) -> str:
    numbers = (
        f"ordered {ordered}, received before {before}, receiving {receiving}: "
        f"{before + receiving} in total"
    )
    if outcome == "under":
        return f"{numbers}; {ordered - before - receiving} still open (partially received)"
    if outcome == "within":
        return f"{numbers}; within the {tolerance} % tolerance (at most {allowed})"
    return (
        f"{numbers}; over the {tolerance} % tolerance, which allows at most {allowed} "
        f"({before + receiving - allowed} too many), so a supervisor other than the receiver "
        "must approve it"
    )


# --- purchase order states --------------------------------------------------------------------


class POState(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


TRANSITIONS: frozenset[tuple[POState, POState]] = frozenset(
    {
        (POState.DRAFT, POState.CONFIRMED),
        (POState.DRAFT, POState.CANCELLED),
        (POState.CONFIRMED, POState.PARTIALLY_RECEIVED),
        (POState.CONFIRMED, POState.RECEIVED),
        (POState.CONFIRMED, POState.CANCELLED),
        (POState.PARTIALLY_RECEIVED, POState.RECEIVED),
        (POState.PARTIALLY_RECEIVED, POState.CLOSED),  # closed short: the rest will not come
        (POState.RECEIVED, POState.CLOSED),
    }
)
# States a receipt may be posted against; ``received`` stays receivable for what the
# tolerance still allows.
RECEIVABLE: frozenset[POState] = frozenset(
    {POState.CONFIRMED, POState.PARTIALLY_RECEIVED, POState.RECEIVED}
)


@dataclass(frozen=True)
class LineQuantities:
    """What a PO line ordered and holds so far; ``closed`` when a buyer closed it short."""

    ordered: int
    received: int
    closed: bool = False


def po_state(value: str, *, field: str = "state") -> POState:
    try:
        return POState(value)
    except ValueError:
        known = ", ".join(s.value for s in POState)
        raise ValidationFailed(
            f"unknown purchase order state {value!r} (expected one of {known})", field=field
        ) from None


def check_transition(from_state: str, to_state: str) -> tuple[POState, POState]:
    """Refuse (409, field ``state``) any step not in TRANSITIONS; return the typed pair."""
    step = (po_state(from_state), po_state(to_state))
    if step not in TRANSITIONS:
        raise Conflict(
            f"a purchase order cannot go from {step[0]} to {step[1]}",
            field="state",
            from_state=step[0].value,
            to_state=step[1].value,
        )
    return step


def derive_state(current: str, lines: Iterable[LineQuantities]) -> POState:
    """The state a PO's line quantities put it in.

    Draft, closed and cancelled are set by people and stay as they are (a receipt against
    them is refused by `ensure_receivable`). In the receiving states: nothing received →
    confirmed; every line fully received → received; every line received or closed short,
    one at least closed → closed; anything else → partially received.
    """
    state = po_state(current)
    if state not in RECEIVABLE:
        return state
    quantities = list(lines)
    if not quantities:
        raise ValidationFailed("a purchase order has at least one line", field="lines")
    if all(q.received == 0 for q in quantities) and not any(q.closed for q in quantities):
        return POState.CONFIRMED
    if all(q.received >= q.ordered for q in quantities):
        return POState.RECEIVED
    if all(q.received >= q.ordered or q.closed for q in quantities):
        return POState.CLOSED
    return POState.PARTIALLY_RECEIVED


def ensure_receivable(current: str) -> POState:
    """Refuse (409) a receipt against a PO that is not confirmed or being received."""
    state = po_state(current)
    if state not in RECEIVABLE:
        raise Conflict(f"a {state} purchase order cannot be received", field="purchase_order")
    return state


def receipt_transition(current: str, lines: Iterable[LineQuantities]) -> POState | None:
    """The state change a receipt causes, checked against TRANSITIONS; None when it stays."""
    state = ensure_receivable(current)
    new = derive_state(state, lines)
    if new == state:
        return None
    check_transition(state, new)
    return new
