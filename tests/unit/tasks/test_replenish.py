"""Pick-face replenishment: refill from reserve before the face runs out."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.shared.errors import ValidationFailed
from stockpilot.tasks.replenish import (
    PickFace,
    ReserveStock,
    decide_replenishment,
    plan_replenishments,
)


def _face(**attrs: int) -> PickFace:
    values = {"quantity_min": 10, "quantity_max": 50, "quantity_on_hand": 20, "pack_quantity": 1}
    values.update(attrs)
    return PickFace(location_id=1, item_id=7, code="P-01", **values)


PLENTY = [ReserveStock(20, 1_000, code="R-20")]


def test_a_face_is_replenished_when_its_demand_would_take_it_below_min() -> None:
    decision = decide_replenishment(_face(quantity_demand=12), PLENTY)
    assert decision.replenish and decision.trigger == "demand"
    assert decision.quantity == 42  # from projected 8 up to max 50
    assert not decision.urgent
    assert decision.reasons[:2] == (
        "projected 8 = on hand 20 + inbound 0 − demand 12, below min 10",
        "42 units = 42 pack(s) of 1 up to max 50 (room 42)",
    )


def test_a_face_that_stays_at_or_above_min_after_its_demand_is_left_alone() -> None:
    decision = decide_replenishment(_face(quantity_demand=10), PLENTY)
    assert not decision.replenish and decision.moves == ()
    assert decision.reasons == (
        "projected 10 = on hand 20 + inbound 0 − demand 10, at or above min 10: no replenishment",
    )


def test_replenishment_already_on_its_way_counts_toward_the_projection() -> None:
    assert not decide_replenishment(_face(quantity_demand=15, quantity_inbound=5), PLENTY).replenish


def test_a_face_below_min_without_demand_waits_for_top_off() -> None:
    face = _face(quantity_on_hand=4)
    assert not decide_replenishment(face, PLENTY).replenish
    topped = decide_replenishment(face, PLENTY, mode="top_off")
    assert topped.replenish and topped.trigger == "top_off" and topped.quantity == 46


def test_the_quantity_is_rounded_down_to_whole_cases_under_max() -> None:
    decision = decide_replenishment(_face(quantity_demand=15, pack_quantity=12), PLENTY)
    assert decision.quantity == 36  # room 45 → 3 cases of 12


def test_a_case_that_does_not_fit_under_max_is_moved_only_when_picks_would_short() -> None:
    calm = decide_replenishment(
        _face(quantity_on_hand=42, quantity_demand=35, pack_quantity=48), PLENTY
    )
    assert not calm.replenish and calm.trigger == "demand"
    assert calm.reasons[-1] == "one pack of 48 does not fit under max 50 (room 43)"
    face = _face(quantity_min=0, quantity_max=5, quantity_on_hand=2, quantity_demand=3,
                 pack_quantity=12)  # fmt: skip
    short = decide_replenishment(face, PLENTY)
    assert short.replenish and short.urgent and short.quantity == 12
    assert "urgent: released picks would short by 1" in short.reasons
    assert "one pack of 12 exceeds max 5 by 6: moved anyway, released picks would short" in (
        short.reasons
    )


def test_a_replenishment_never_takes_more_than_the_reserve_holds() -> None:
    decision = decide_replenishment(_face(quantity_demand=18), [ReserveStock(20, 7, code="R-20")])
    assert decision.quantity == 7
    assert "capped at the reserve's 7 units (all of it)" in decision.reasons


def test_no_reserve_stock_means_no_task_and_says_the_face_will_run_out() -> None:
    decision = decide_replenishment(_face(quantity_demand=30), [])
    assert not decision.replenish and decision.urgent
    assert (
        decision.reasons[-1] == "no reserve stock of this item at the site: the face will run out"
    )


def test_reserve_bins_are_taken_first_expiry_first() -> None:
    reserves = [
        ReserveStock(30, 100, lot_id=3, expiry_date=None, code="R-30"),
        ReserveStock(31, 10, lot_id=2, expiry_date=date(2027, 6, 1), code="R-31"),
        ReserveStock(32, 15, lot_id=1, expiry_date=date(2027, 2, 1), code="R-32"),
    ]
    decision = decide_replenishment(_face(quantity_demand=20), reserves)
    assert [(m.from_location_id, m.quantity) for m in decision.moves] == [
        (32, 15),
        (31, 10),
        (30, 25),
    ]
    assert decision.reasons[-3:] == (
        "from R-32 lot 1 (expiry 2027-02-01): 15",
        "from R-31 lot 2 (expiry 2027-06-01): 10",
        "from R-30 lot 3: 25",
    )


def test_within_one_expiry_the_fewest_moves_win_the_smallest_bin_that_covers() -> None:
    reserves = [
        ReserveStock(40, 100),
        ReserveStock(41, 55),
        ReserveStock(42, 20),
        ReserveStock(43, 30),
    ]
    decision = decide_replenishment(_face(quantity_demand=20), reserves)  # needs 50
    assert [(m.from_location_id, m.quantity) for m in decision.moves] == [(41, 50)]
    small = [ReserveStock(42, 20), ReserveStock(43, 30), ReserveStock(44, 5)]
    spread = decide_replenishment(_face(quantity_demand=20), small)
    assert [(m.from_location_id, m.quantity) for m in spread.moves] == [(43, 30), (42, 20)]


def test_expired_reserve_lots_are_skipped_with_the_reason() -> None:
    reserves = [
        ReserveStock(50, 40, lot_id=1, expiry_date=date(2026, 11, 1), code="R-50"),
        ReserveStock(51, 40, lot_id=2, expiry_date=date(2027, 1, 1), code="R-51"),
    ]
    decision = decide_replenishment(_face(quantity_demand=20), reserves, today=date(2026, 12, 1))
    assert [m.from_location_id for m in decision.moves] == [51]
    assert "skipped R-50 lot 1 (expiry 2026-11-01): expired" in decision.reasons


def test_faces_sharing_a_reserve_bin_are_served_neediest_first_without_double_counting() -> None:
    faces = [
        PickFace(1, 7, 10, 30, quantity_on_hand=9, quantity_demand=1, code="P-01"),
        PickFace(2, 7, 10, 30, quantity_on_hand=5, quantity_demand=5, code="P-02"),
        PickFace(3, 8, 10, 30, quantity_on_hand=30, code="P-03"),
    ]
    plan = plan_replenishments(faces, {7: [ReserveStock(20, 40)]})
    assert [(d.face.code, d.quantity) for d in plan] == [("P-02", 30), ("P-01", 10)]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: _face(quantity_min=60), "quantity_min"),
        (lambda: _face(pack_quantity=0), "pack_quantity"),
        (lambda: _face(quantity_demand=-1), "quantity_demand"),
        (lambda: ReserveStock(1, -5), "quantity_available"),
        (lambda: decide_replenishment(_face(), [], mode="never"), "mode"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_is_refused_naming_the_field(build: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        build()  # type: ignore[operator]
    assert error.value.field == field


@settings(max_examples=300, deadline=None)
@given(
    on_hand=st.integers(0, 100),
    demand=st.integers(0, 150),
    low=st.integers(0, 50),
    span=st.integers(0, 100),
    pack=st.integers(1, 30),
    reserve=st.lists(st.integers(0, 80), max_size=6),
    mode=st.sampled_from(["demand", "top_off"]),
)
def test_a_replenishment_stays_within_reserve_stock_and_under_max_unless_picks_would_short(
    on_hand: int, demand: int, low: int, span: int, pack: int, reserve: list[int], mode: str
) -> None:
    face = PickFace(1, 7, low, low + span, on_hand, demand, pack_quantity=pack)
    reserves = [ReserveStock(10 + i, q) for i, q in enumerate(reserve)]
    d = decide_replenishment(face, reserves, mode=mode)  # type: ignore[arg-type]
    assert d.quantity == sum(m.quantity for m in d.moves)
    by_bin = {r.location_id: r.quantity_available for r in reserves}
    assert all(0 < m.quantity <= by_bin[m.from_location_id] for m in d.moves)
    assert d.quantity <= sum(reserve)
    if d.replenish:
        assert face.quantity_projected < face.quantity_min
        assert face.quantity_projected + d.quantity <= face.quantity_max or d.quantity <= pack
        if d.quantity < sum(reserve):
            assert d.quantity % pack == 0
