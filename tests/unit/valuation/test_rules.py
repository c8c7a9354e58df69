"""The valuation rules as pure functions: exact shares, FIFO by lot, moving average,
standard variances, and money rendered as exact decimal strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stockpilot.valuation import rules
from stockpilot.valuation.money import cost_value, from_micros, render, share
from stockpilot.valuation.rules import Area, ItemCosts, Slice

NOW = datetime(2026, 12, 1)
FIFO = ItemCosts("fifo", None)


def _receive(area: Area, quantity: int, cost: str, lot: int = 0) -> None:
    value = cost_value(Decimal(cost), quantity)
    rules.receive(area, FIFO, lot, [Slice(quantity, value, Decimal(cost), None)], NOW)


def test_a_share_of_a_value_is_exact_and_the_last_part_takes_what_is_left() -> None:
    parts = [share(10_000_000 - 0, 1, 3)]
    rest = 10_000_000 - parts[0]
    parts.append(share(rest, 1, 2))
    parts.append(rest - parts[1])
    assert parts == [3_333_333, 3_333_334, 3_333_333]
    assert sum(parts) == 10_000_000
    assert share(7, 5, 5) == 7


@given(
    value=st.integers(0, 10**15),
    whole=st.integers(1, 10**6),
    data=st.data(),
)
def test_a_share_never_exceeds_its_whole(value: int, whole: int, data: st.DataObject) -> None:
    part = data.draw(st.integers(0, whole))
    taken = share(value, part, whole)
    assert 0 <= taken <= value
    assert abs(taken * whole - value * part) * 2 <= whole


def test_fifo_consumes_the_oldest_layer_of_the_lot_that_moved() -> None:
    area = Area("fifo")
    _receive(area, 10, "5.00", lot=1)
    _receive(area, 10, "7.00", lot=2)
    _receive(area, 10, "9.00", lot=1)
    issued = rules.issue(area, 1, 15, NOW)
    assert issued.value == cost_value(Decimal("5"), 10) + cost_value(Decimal("9"), 5)
    assert [layer.quantity for layer in area.layers[1]] == [0, 5]
    assert [layer.quantity for layer in area.layers[2]] == [10]
    assert area.value == sum(ly.value for lots in area.layers.values() for ly in lots)


def test_the_moving_average_splits_exactly_and_empties_to_zero() -> None:
    area = Area("average")
    avg = ItemCosts("average", None)
    rules.receive(area, avg, 0, [Slice(3, 10_000_000, None, None)], NOW)
    values = [rules.issue(area, 0, 1, NOW).value for _ in range(3)]
    assert values == [3_333_333, 3_333_334, 3_333_333]
    assert (area.quantity, area.value) == (0, 0)


def test_standard_cost_books_at_standard_and_returns_the_variance() -> None:
    area = Area("standard")
    std = ItemCosts("standard", Decimal("6.50"))
    booked = rules.receive(area, std, 0, [Slice(10, 50_000_000, Decimal(5), None)], NOW)
    assert (booked.value, booked.price_variance) == (65_000_000, -15_000_000)


def test_units_the_area_never_valued_leave_at_no_value() -> None:
    area = Area("average", quantity=2, value=8_000_000)
    issued = rules.issue(area, 0, 5, NOW)
    assert (issued.quantity, issued.value) == (2, 8_000_000)
    assert [s.quantity for s in issued.slices] == [2, 3]


def test_an_uncosted_receipt_takes_the_standard_then_the_average_then_the_list_cost() -> None:
    assert rules.inbound_value(Area("standard"), ItemCosts("standard", Decimal(2)), 3, None)[0] == (
        6_000_000
    )
    stocked = Area("average", quantity=4, value=10_000_000)
    assert rules.inbound_value(stocked, ItemCosts("average", None), 2, None)[0] == 5_000_000
    listed = ItemCosts("fifo", None, "1.25")
    assert rules.inbound_value(Area("fifo"), listed, 4, None)[0] == 5_000_000
    assert rules.inbound_value(Area("fifo"), FIFO, 4, None) == (0, None)


def test_money_is_rendered_with_cents_or_every_digit_that_matters() -> None:
    assert render(85_000_000) == "85.00"
    assert render(333_333) == "0.333333"
    assert render(-15_000_000) == "-15.00"
    assert render(None) is None
    assert from_micros(1) == Decimal("0.000001")


@given(st.integers(-(10**18), 10**18))
def test_rendering_says_exactly_the_decimal_amount(micros: int) -> None:
    text = render(micros)
    assert text is not None
    assert Decimal(text) == from_micros(micros)
    assert len(text.split(".")[1]) >= 2
