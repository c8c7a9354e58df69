"""Wave building and pick lists: discrete, batch with sort-to-order slots, zone."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.outbound.waves_rules import (
    WaveLine,
    batch_lists,
    build_pick_lists,
    discrete_lists,
    group_lines,
    zone_lists,
)
from stockpilot.shared.errors import ValidationFailed

MON, TUE = date(2026, 11, 30), date(2026, 12, 1)


def _line(line_id: int, order_id: int, **attrs: object) -> WaveLine:
    values: dict[str, object] = {"item_id": 7, "quantity": 1, "location_id": 100 + line_id}
    values.update(attrs)
    return WaveLine(line_id, order_id, **values)  # type: ignore[arg-type]


def test_lines_are_grouped_into_waves_by_route_and_ship_date_in_key_order() -> None:
    lines = [
        _line(1, 10, route="N", ship_date=TUE),
        _line(2, 11, route="N", ship_date=MON),
        _line(3, 12, route="E", ship_date=TUE),
        _line(4, 10, route="N", ship_date=TUE),
    ]
    waves = group_lines(lines)
    assert [(w.label, w.line_ids, w.order_ids) for w in waves] == [
        ("route E, ship date 2026-12-01", (3,), (12,)),
        ("route N, ship date 2026-11-30", (2,), (11,)),
        ("route N, ship date 2026-12-01", (1, 4), (10,)),
    ]


def test_a_size_limit_splits_a_wave_between_orders_never_inside_one() -> None:
    lines = [_line(1, 10), _line(2, 10), _line(3, 11), _line(4, 12), _line(5, 12), _line(6, 12)]
    waves = group_lines(lines, ["route"], max_lines=3)
    assert [w.line_ids for w in waves] == [(1, 2, 3), (4, 5, 6)]
    big = group_lines(lines, ["route"], max_lines=2)
    assert [w.line_ids for w in big] == [(1, 2), (3,), (4, 5, 6)]  # order 12 stays whole


def test_grouping_by_zone_spreads_an_order_over_waves() -> None:
    lines = [_line(1, 10, zone="A"), _line(2, 10, zone="B"), _line(3, 11, zone="A")]
    assert [(w.key, w.line_ids) for w in group_lines(lines, ["zone"])] == [
        (("A",), (1, 3)),
        (("B",), (2,)),
    ]


def test_discrete_picking_makes_one_list_per_order_in_walk_order() -> None:
    lines = [
        _line(1, 10, walk_sequence=30),
        _line(2, 11, walk_sequence=5),
        _line(3, 10, walk_sequence=10),
    ]
    lists = discrete_lists(lines)
    assert [(p.number, p.order_ids, [ln.line_id for ln in p.lines]) for p in lists] == [
        (1, (10,), [3, 1]),
        (2, (11,), [2]),
    ]
    assert [ln.sequence for ln in lists[0].lines] == [1, 2]
    assert lists[0].distance == 20.0


def test_a_batch_cart_takes_at_most_n_orders_and_gives_each_a_slot() -> None:
    lines = [_line(i, 10 + (i - 1) // 2, walk_sequence=10 - i) for i in range(1, 11)]  # 5 orders
    carts = batch_lists(lines, cart_orders=2)
    assert [c.order_ids for c in carts] == [(10, 11), (12, 13), (14,)]
    assert carts[0].slots == ((10, 1), (11, 2))
    assert [(ln.line_id, ln.slot) for ln in carts[0].lines] == [(4, 2), (3, 2), (2, 1), (1, 1)]


def test_a_batch_cart_respects_its_line_capacity_and_an_oversized_order_rides_alone() -> None:
    lines = [_line(1, 10), _line(2, 11), _line(3, 11), _line(4, 12), _line(5, 12), _line(6, 12)]
    carts = batch_lists(lines, cart_orders=5, cart_lines=2)
    assert [c.order_ids for c in carts] == [(10,), (11,), (12,)]
    assert [len(c.lines) for c in carts] == [1, 2, 3]


def test_zone_picking_makes_one_list_per_zone_for_consolidation_later() -> None:
    lines = [
        _line(1, 10, zone="B", x=0, y=5),
        _line(2, 11, zone="A", x=0, y=9),
        _line(3, 10, zone="A", x=0, y=1),
        _line(4, 12),
    ]
    lists = zone_lists(lines, start=(0, 0))
    assert [(p.zone, p.order_ids, [ln.line_id for ln in p.lines]) for p in lists] == [
        ("A", (11, 10), [3, 2]),
        ("B", (10,), [1]),
        (None, (12,), [4]),
    ]
    assert lists[0].distance == 9.0


def test_build_pick_lists_dispatches_on_the_method() -> None:
    lines = [_line(1, 10, zone="A"), _line(2, 11, zone="A")]
    assert len(build_pick_lists(lines, "discrete")) == 2
    assert len(build_pick_lists(lines, "batch", cart_orders=4)) == 1
    assert len(build_pick_lists(lines, "zone")) == 1


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: group_lines([_line(1, 10), _line(1, 11)]), "line_id"),
        (lambda: group_lines([_line(1, 10, quantity=0)]), "quantity"),
        (lambda: group_lines([], ["colour"]), "by"),  # type: ignore[list-item]
        (lambda: group_lines([], max_lines=0), "max_lines"),
        (lambda: batch_lists([], cart_orders=0), "cart_orders"),
        (lambda: batch_lists([], cart_orders=2, cart_lines=0), "cart_lines"),
        (lambda: build_pick_lists([], "cluster"), "method"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_is_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


_wave = st.lists(
    st.builds(
        WaveLine,
        line_id=st.integers(1, 500),
        order_id=st.integers(1, 12),
        item_id=st.just(7),
        quantity=st.integers(1, 9),
        location_id=st.integers(1, 40),
        zone=st.sampled_from([None, "A", "B"]),
        route=st.sampled_from([None, "N", "S"]),
        walk_sequence=st.one_of(st.none(), st.integers(0, 50)),
        x=st.one_of(st.none(), st.integers(0, 5).map(float)),
        y=st.integers(0, 20).map(float),
    ),
    max_size=40,
    unique_by=lambda ln: ln.line_id,
)


@settings(max_examples=200, deadline=None)
@given(
    lines=_wave,
    method=st.sampled_from(["discrete", "batch", "zone"]),
    cart_orders=st.integers(1, 5),
    cart_lines=st.one_of(st.none(), st.integers(1, 8)),
)
def test_every_line_lands_on_exactly_one_pick_list_and_a_cart_stays_within_capacity(
    lines: list[WaveLine], method: str, cart_orders: int, cart_lines: int | None
) -> None:
    lists = build_pick_lists(lines, method, cart_orders=cart_orders, cart_lines=cart_lines)  # type: ignore[arg-type]
    placed = [ln.line_id for p in lists for ln in p.lines]
    assert sorted(placed) == sorted(ln.line_id for ln in lines)
    for p in lists:
        assert [ln.sequence for ln in p.lines] == list(range(1, len(p.lines) + 1))
        if method == "batch":
            assert len(p.order_ids) <= cart_orders
            if cart_lines is not None and len(p.order_ids) > 1:
                assert len(p.lines) <= cart_lines
            slots = dict(p.slots)
            assert sorted(slots.values()) == list(range(1, len(p.order_ids) + 1))
            assert all(ln.slot == slots[ln.order_id] for ln in p.lines)
        if method == "discrete":
            assert len(p.order_ids) == 1
    orders_by_list = [set(p.order_ids) for p in lists]
    if method != "zone":  # an order is never split over two lists
        assert sum(len(s) for s in orders_by_list) == len({ln.order_id for ln in lines})


@settings(max_examples=100, deadline=None)
@given(lines=_wave, max_lines=st.integers(1, 10))
def test_waves_partition_the_lines_and_keep_orders_whole_by_route(
    lines: list[WaveLine], max_lines: int
) -> None:
    waves = group_lines(lines, ["route"], max_lines=max_lines)
    assert sorted(i for w in waves for i in w.line_ids) == sorted(ln.line_id for ln in lines)
    seen: dict[tuple[object, int], int] = {}
    for n, w in enumerate(waves):
        for o in w.order_ids:
            assert seen.setdefault((w.key, o), n) == n
