"""Allocation rules: rank, FEFO with shelf life, ship complete, substitutes, backorders, causes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.outbound.allocation_rules import (
    CustomerRules,
    DemandLine,
    ShortfallFacts,
    StockSlot,
    allocate,
    choose_lots,
    classify_shortfall,
    rank_lines,
    reallocate_backorders,
)
from stockpilot.shared.errors import ValidationFailed

TODAY = date(2026, 12, 1)
T0 = datetime(2026, 11, 30, 9, 0)


def _line(line_id: int, quantity: int = 5, **attrs: object) -> DemandLine:
    values: dict[str, object] = {
        "order_id": line_id * 10,
        "item_id": 7,
        "quantity": quantity,
        "order_created_at": T0,
    }
    values.update(attrs)
    return DemandLine(line_id, **values)  # type: ignore[arg-type]


def _ids(lines: tuple[DemandLine, ...]) -> list[int]:
    return [ln.line_id for ln in lines]


def test_higher_customer_priority_is_served_before_an_earlier_promise() -> None:
    lines = [
        _line(1, priority=3, promised_date=TODAY),
        _line(2, priority=1, promised_date=TODAY + timedelta(9)),
    ]
    assert _ids(rank_lines(lines, TODAY)) == [2, 1]


def test_within_a_priority_the_earlier_promise_then_the_older_order_comes_first() -> None:
    lines = [
        _line(1, priority=2, promised_date=TODAY + timedelta(3)),
        _line(2, priority=2, promised_date=TODAY + timedelta(1), order_created_at=T0),
        _line(
            3,
            priority=2,
            promised_date=TODAY + timedelta(1),
            order_created_at=T0 - timedelta(hours=2),
        ),
    ]
    assert _ids(rank_lines(lines, TODAY)) == [3, 2, 1]


def test_same_day_route_commitments_come_first_by_cut_off() -> None:
    lines = [
        _line(1, priority=1),
        _line(2, priority=5, route_cutoff=datetime(2026, 12, 1, 16, 0)),
        _line(3, priority=5, route_cutoff=datetime(2026, 12, 1, 11, 0)),
        _line(4, priority=5, route_cutoff=datetime(2026, 12, 2, 11, 0)),  # tomorrow's route
    ]
    assert _ids(rank_lines(lines, TODAY)) == [3, 2, 1, 4]


def test_a_transfer_ranks_below_urgent_customer_orders_and_above_default_ones_unless_set() -> None:
    lines = [
        _line(1, priority=1),
        _line(2, priority=3),
        _line(3, kind="transfer"),
        _line(4, priority=2),
    ]
    assert _ids(rank_lines(lines, TODAY)) == [1, 4, 3, 2]
    urgent_transfer = _line(5, kind="transfer", priority=1)
    assert _ids(rank_lines([*lines, urgent_transfer], TODAY))[:2] == [1, 5]


def test_fefo_takes_the_earliest_expiry_and_lots_without_expiry_last() -> None:
    slots = [
        StockSlot(1, 7, 10, lot_id=1),
        StockSlot(2, 7, 10, lot_id=2, expiry_date=date(2027, 3, 1)),
        StockSlot(3, 7, 10, lot_id=3, expiry_date=date(2027, 1, 1)),
    ]
    choice = choose_lots(25, slots, today=TODAY)
    assert [(s.lot_id, q) for s, q in choice.takes] == [(3, 10), (2, 10), (1, 5)]


def test_lots_below_the_customers_remaining_shelf_life_are_excluded_with_the_reason() -> None:
    slots = [
        StockSlot(1, 7, 10, lot_id=1, expiry_date=date(2026, 11, 29)),
        StockSlot(2, 7, 10, lot_id=2, expiry_date=date(2026, 12, 31)),
        StockSlot(3, 7, 10, lot_id=3, expiry_date=date(2027, 6, 1)),
    ]
    plan = allocate(
        [_line(1, 15, customer_id=100)],
        slots,
        today=TODAY,
        customers={100: CustomerRules(100, min_remaining_shelf_life_days=60)},
    )
    outcome = plan.lines[0]
    assert (outcome.quantity_allocated, outcome.quantity_short) == (10, 5)
    assert [e.reason for e in outcome.excluded] == [
        "lot 1 expired on 2026-11-29",
        "lot 2 has 30 days of shelf life left; the customer requires 60",
    ]


def test_a_ship_complete_order_that_cannot_be_filled_whole_allocates_nothing() -> None:
    stock = [StockSlot(1, 7, 10), StockSlot(2, 8, 2)]
    order = [
        _line(1, 5, order_id=50, customer_id=100),
        _line(2, 5, order_id=50, item_id=8, customer_id=100),
    ]
    rules = {100: CustomerRules(100, ship_complete=True)}
    plan = allocate(order, stock, today=TODAY, customers=rules)
    assert plan.allocations == ()
    assert [o.quantity_short for o in plan.lines] == [5, 5]
    assert (
        plan.lines[0].reasons[-2] == "ship complete: line(s) 2 cannot be filled, nothing allocated"
    )
    assert plan.remaining == {1: 10, 2: 2}
    partial = allocate(order, stock, today=TODAY)
    assert [o.quantity_allocated for o in partial.lines] == [5, 2]


def test_a_ship_complete_order_that_fits_is_allocated_whole() -> None:
    stock = [StockSlot(1, 7, 10), StockSlot(2, 8, 5)]
    order = [
        _line(1, 5, order_id=50, customer_id=100),
        _line(2, 5, order_id=50, item_id=8, customer_id=100),
    ]
    plan = allocate(
        order, stock, today=TODAY, customers={100: CustomerRules(100, ship_complete=True)}
    )
    assert [o.quantity_allocated for o in plan.lines] == [5, 5]


def test_a_short_line_gets_the_substitute_when_the_customer_allows_it() -> None:
    stock = [StockSlot(1, 7, 3), StockSlot(2, 9, 10)]
    rules = {100: CustomerRules(100, substitutes="allocate")}
    plan = allocate(
        [_line(1, 5, customer_id=100)], stock, today=TODAY, customers=rules, substitutes={7: [8, 9]}
    )
    assert [(a.item_id, a.quantity, a.substitute_for) for a in plan.allocations] == [
        (7, 3, None),
        (9, 2, 7),
    ]
    assert "substituted 2 by item 9 (the customer allows substitutes)" in plan.lines[0].reasons
    assert plan.lines[0].quantity_short == 0


def test_a_customer_who_wants_to_be_asked_gets_an_offer_and_no_substitute_allocation() -> None:
    stock = [StockSlot(1, 7, 3), StockSlot(2, 9, 10)]
    rules = {100: CustomerRules(100, substitutes="offer")}
    plan = allocate(
        [_line(1, 5, customer_id=100)], stock, today=TODAY, customers=rules, substitutes={7: [9]}
    )
    assert [(o.substitute_item_id, o.quantity_available) for o in plan.offers] == [(9, 2)]
    assert plan.lines[0].quantity_short == 2
    never = allocate([_line(1, 5, customer_id=100)], stock, today=TODAY, substitutes={7: [9]})
    assert never.offers == () and never.lines[0].quantity_short == 2


def test_backorders_are_reallocated_in_priority_order_when_stock_arrives() -> None:
    backorders = [
        _line(1, 4, priority=4, order_created_at=T0 - timedelta(days=9)),
        _line(2, 4, priority=2),
        _line(3, 4, kind="transfer"),
    ]
    plan = reallocate_backorders(backorders, [StockSlot(5, 7, 6)], today=TODAY)
    assert [(o.line_id, o.quantity_allocated) for o in plan.lines] == [(2, 4), (3, 2), (1, 0)]
    assert plan.lines[2].quantity_taken_by_higher_priority == 4


def test_a_line_short_because_nothing_was_there_names_no_taker() -> None:
    plan = allocate([_line(1, 5)], [StockSlot(1, 7, 2)], today=TODAY)
    assert plan.lines[0].quantity_taken_by_higher_priority == 0
    assert plan.lines[0].reasons[-1] == "short 3"


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (ShortfallFacts(3), "no_stock_at_site"),
        (ShortfallFacts(3, quantity_on_hand=8, quantity_allocatable=0), "blocking_status_only"),
        (
            ShortfallFacts(3, stage="pick", quantity_reserve_available=40),
            "pick_face_empty_reserve_has_stock",
        ),
        (
            ShortfallFacts(3, quantity_allocatable=5, quantity_taken_by_higher_priority=3),
            "taken_by_higher_priority",
        ),
        (
            ShortfallFacts(
                3,
                needed_by=date(2026, 12, 3),
                awaited_receipt_expected=date(2026, 11, 28),
                awaited_receipt_received=date(2026, 12, 2),
            ),
            "waited_receipt_late",
        ),
        (
            ShortfallFacts(
                3,
                needed_by=date(2026, 12, 3),
                awaited_receipt_expected=date(2026, 11, 28),
                today=TODAY,
            ),
            "waited_receipt_late",
        ),
    ],
)
def test_each_short_line_is_given_its_immediate_cause(facts: ShortfallFacts, code: str) -> None:
    assert classify_shortfall(facts).code == code


def test_a_receipt_due_after_the_need_date_is_not_blamed_and_other_causes_are_listed() -> None:
    not_in_time = ShortfallFacts(
        3, needed_by=date(2026, 12, 1), awaited_receipt_expected=date(2026, 12, 5), today=TODAY
    )
    assert classify_shortfall(not_in_time).code == "no_stock_at_site"
    both = ShortfallFacts(
        3, stage="pick", quantity_reserve_available=10, quantity_on_hand=12, quantity_allocatable=10
    )
    cause = classify_shortfall(both)
    assert cause.code == "pick_face_empty_reserve_has_stock"
    assert cause.also == ("blocking_status_only",)
    assert cause.reason == "pick face short by 3 while reserve held 10"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: _line(1, 0), "quantity"),
        (lambda: _line(1, priority=9), "priority"),
        (lambda: _line(1, kind="gift"), "kind"),
        (lambda: allocate([], [StockSlot(1, 7, 1), StockSlot(1, 7, 2)], today=TODAY), "key"),
        (lambda: allocate([], [StockSlot(1, 7, -1)], today=TODAY), "quantity_available"),
        (lambda: allocate([_line(1), _line(1)], [], today=TODAY), "line_id"),
        (
            lambda: allocate(
                [_line(1, order_id=5, customer_id=1), _line(2, order_id=5, customer_id=2)],
                [],
                today=TODAY,
            ),
            "customer_id",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


_slots = st.lists(
    st.builds(
        StockSlot,
        key=st.integers(1, 60),
        item_id=st.integers(7, 9),
        quantity_available=st.integers(0, 30),
        lot_id=st.one_of(st.none(), st.integers(1, 5)),
        expiry_date=st.one_of(st.none(), st.integers(-10, 200).map(lambda d: TODAY + timedelta(d))),
    ),
    max_size=12,
    unique_by=lambda s: s.key,
)
_lines = st.lists(
    st.builds(
        DemandLine,
        line_id=st.integers(1, 200),
        order_id=st.integers(1, 6),
        item_id=st.integers(7, 9),
        quantity=st.integers(1, 40),
        order_created_at=st.integers(0, 100).map(lambda h: T0 - timedelta(hours=h)),
        customer_id=st.sampled_from([None, 100, 200, 300]),
        priority=st.one_of(st.none(), st.integers(1, 5)),
        kind=st.sampled_from(["customer", "transfer"]),
    ),
    max_size=15,
    unique_by=lambda ln: ln.line_id,
)
_customers = {
    100: CustomerRules(100, ship_complete=True, min_remaining_shelf_life_days=30),
    200: CustomerRules(200, substitutes="allocate"),
    300: CustomerRules(300, substitutes="offer", min_remaining_shelf_life_days=5),
}


@settings(max_examples=300, deadline=None)
@given(lines=_lines, slots=_slots)
def test_allocation_never_exceeds_what_a_slot_holds_or_a_line_asks(
    lines: list[DemandLine], slots: list[StockSlot]
) -> None:
    # One customer per order, as real orders have.
    lines = [replace(ln, customer_id=[None, 100, 200, 300][ln.order_id % 4]) for ln in lines]
    plan = allocate(lines, slots, today=TODAY, customers=_customers, substitutes={7: [8], 8: [9]})
    held = {s.key: s.quantity_available for s in slots}
    used: dict[int, int] = defaultdict(int)
    for a in plan.allocations:
        assert a.quantity > 0
        used[a.key] += a.quantity
    assert all(used[k] <= held[k] for k in used)
    assert all(plan.remaining[k] == held[k] - used[k] for k in held)
    asked = {ln.line_id: ln.quantity for ln in lines}
    for o in plan.lines:
        assert o.quantity_allocated == plan.allocated_to(o.line_id) <= asked[o.line_id]
        assert o.quantity_allocated + o.quantity_short == asked[o.line_id]
        assert 0 <= o.quantity_taken_by_higher_priority <= o.quantity_short
    outcome = {o.line_id: o for o in plan.lines}
    for ln in lines:  # a ship-complete order is whole or empty
        if ln.customer_id == 100:
            key = (ln.kind, ln.order_id)
            order = [outcome[x.line_id] for x in lines if (x.kind, x.order_id) == key]
            whole = all(o.quantity_short == 0 for o in order)
            assert whole or all(o.quantity_allocated == 0 for o in order)
