"""Pick-path ordering: walk sequence first, else serpentine aisles or nearest neighbour."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.shared.errors import ValidationFailed
from stockpilot.tasks.pickpath import (
    PickStop,
    mean_travel_per_line,
    order_picks,
    travel_per_line,
)


def test_stops_follow_the_walk_sequence_with_ties_by_bin_then_line() -> None:
    stops = [
        PickStop(1, 30, walk_sequence=7),
        PickStop(2, 20, walk_sequence=3),
        PickStop(4, 21, walk_sequence=3),
        PickStop(3, 21, walk_sequence=3),
    ]
    path = order_picks(stops)
    assert path.method == "walk_sequence"
    assert path.order == (2, 3, 4, 1)
    assert path.unit == "walk_sequence"
    assert path.legs == (0.0, 0.0, 0.0, 4.0) and path.distance == 4.0


def test_walk_sequence_travel_is_measured_in_metres_when_the_bins_have_coordinates() -> None:
    stops = [PickStop(1, 1, walk_sequence=2, x=0, y=10), PickStop(2, 2, walk_sequence=1, x=0, y=0)]
    path = order_picks(stops, start=(0, 0), end=(0, 0))
    assert path.order == (2, 1)
    assert path.unit == "xy"
    assert path.legs == (0.0, 10.0)
    assert path.distance == 20.0  # back to the drop point included


def test_serpentine_walks_up_one_aisle_and_down_the_next() -> None:
    grid = [(x, y) for x in (0, 10, 20) for y in (1, 5, 9)]
    random.Random(3).shuffle(grid)
    stops = [PickStop(i, 100 + i, x=x, y=y) for i, (x, y) in enumerate(grid)]
    path = order_picks(stops, start=(0, 0))
    visited = [next((s.x, s.y) for s in stops if s.key == k) for k in path.order]
    assert visited == [
        (0, 1), (0, 5), (0, 9),
        (10, 9), (10, 5), (10, 1),
        (20, 1), (20, 5), (20, 9),
    ]  # fmt: skip
    assert path.distance == 1 + 4 + 4 + 10 + 4 + 4 + 10 + 4 + 4


def test_a_start_at_the_far_end_walks_the_aisles_from_that_end() -> None:
    stops = [PickStop(1, 1, x=0, y=1), PickStop(2, 2, x=20, y=1)]
    assert order_picks(stops, start=(20, 0)).order == (2, 1)
    assert order_picks(stops, start=(0, 0)).order == (1, 2)


def test_two_opt_shortens_the_path_that_nearest_neighbour_leaves() -> None:
    # Greedy from (0, 0) takes (0, 3) first and must walk back across for (0, 6) at the end.
    points = [(3, 3), (5, 3), (6, 1), (0, 3), (0, 6)]
    stops = [PickStop(i + 1, i + 1, x=x, y=y) for i, (x, y) in enumerate(points)]
    greedy = order_picks(stops, method="nearest", start=(0, 0), max_two_opt_stops=0)
    improved = order_picks(stops, method="nearest", start=(0, 0))
    assert (greedy.order, greedy.distance) == ((4, 1, 2, 3, 5), 22.0)
    assert (improved.order, improved.distance) == ((5, 4, 1, 2, 3), 17.0)


def test_bins_without_a_sequence_or_coordinates_go_last_and_are_named() -> None:
    stops = [PickStop(1, 9), PickStop(2, 3, x=0, y=4), PickStop(3, 5, x=0, y=1)]
    path = order_picks(stops, start=(0, 0))
    assert path.method == "serpentine"
    assert path.order == (3, 2, 1)
    assert path.unsequenced == (1,)
    assert path.legs == (1.0, 3.0, 0.0)


def test_travel_per_line_is_the_leg_walked_to_reach_each_line() -> None:
    path = order_picks([PickStop(5, 1, x=0, y=2), PickStop(6, 2, x=3, y=2)], start=(0, 0))
    assert travel_per_line(path) == {5: 2.0, 6: 3.0}
    assert mean_travel_per_line(path) == 2.5
    assert mean_travel_per_line(order_picks([])) == 0.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: order_picks([PickStop(1, 1), PickStop(1, 2)]), "key"),
        (lambda: order_picks([], method="random"), "method"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_is_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


_stops = st.lists(
    st.builds(
        PickStop,
        key=st.integers(0, 10_000),
        location_id=st.integers(1, 50),
        walk_sequence=st.one_of(st.none(), st.integers(0, 100)),
        x=st.one_of(st.none(), st.integers(0, 5).map(lambda a: a * 4.0)),
        y=st.integers(0, 30).map(float),
    ),
    max_size=30,
    unique_by=lambda s: s.key,
)


@settings(max_examples=200, deadline=None)
@given(
    stops=_stops,
    method=st.sampled_from(["auto", "walk_sequence", "serpentine", "nearest"]),
    seed=st.integers(0, 1000),
)
def test_a_pick_path_is_a_permutation_that_does_not_depend_on_input_order(
    stops: list[PickStop], method: str, seed: int
) -> None:
    path = order_picks(stops, method=method, start=(0.0, 0.0))  # type: ignore[arg-type]
    assert sorted(path.order) == sorted(s.key for s in stops)
    assert len(path.legs) == len(path.order)
    assert path.distance == pytest.approx(sum(path.legs))
    shuffled = list(stops)
    random.Random(seed).shuffle(shuffled)
    assert order_picks(shuffled, method=method, start=(0.0, 0.0)).order == path.order  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(stops=_stops.map(lambda ss: [s for s in ss if s.x is not None]))
def test_two_opt_never_makes_the_nearest_neighbour_path_longer(stops: list[PickStop]) -> None:
    greedy = order_picks(stops, method="nearest", start=(0.0, 0.0), max_two_opt_stops=0)
    improved = order_picks(stops, method="nearest", start=(0.0, 0.0))
    assert improved.distance <= greedy.distance + 1e-9
