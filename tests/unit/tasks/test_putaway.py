"""Directed putaway: hard constraints filter the bins, soft scores rank what is left."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.shared.errors import ValidationFailed
from stockpilot.tasks.putaway import (
    BinRow,
    BinTable,
    Holdings,
    PutawayItem,
    VelocityClass,
    Weights,
    check_bin,
    choose_bin,
)

ITEM = PutawayItem(item_id=1, sku="SKU-1")


def _bin(location_id: int, **attrs: object) -> BinRow:
    values: dict[str, object] = {"code": f"B-{location_id:02d}", "kind": "storage"}
    values.update(attrs)
    return BinRow(location_id, **values)  # type: ignore[arg-type]


def _table(*rows: BinRow) -> BinTable:
    return BinTable.from_rows(rows)


def test_a_hazardous_item_goes_only_to_a_bin_of_its_hazard_class() -> None:
    bins = _table(_bin(1), _bin(2, hazard_class="3"), _bin(3, hazard_class="8"))
    item = PutawayItem(item_id=1, sku="FUEL", hazard_class="3")
    decision = choose_bin(item, 10, bins)
    assert decision.chosen is not None and decision.chosen.code == "B-02"
    assert decision.alternatives == ()
    assert decision.excluded["hazard"] == 2


def test_an_ordinary_item_keeps_out_of_hazard_bins() -> None:
    bins = _table(_bin(1, hazard_class="3", distance=1), _bin(2, distance=90))
    decision = choose_bin(ITEM, 10, bins)
    assert decision.chosen is not None and decision.chosen.code == "B-02"


def test_an_unset_temperature_class_means_ambient_on_items_and_bins() -> None:
    bins = _table(
        _bin(1, temperature_class="ambient"), _bin(2), _bin(3, temperature_class="frozen")
    )
    decision = choose_bin(ITEM, 10, bins)
    assert decision.feasible == 2
    frozen = PutawayItem(item_id=2, sku="ICE", temperature_class="frozen")
    chosen = choose_bin(frozen, 10, bins).chosen
    assert chosen is not None and chosen.code == "B-03"


def test_a_bin_filled_exactly_to_capacity_still_fits_and_one_unit_more_does_not() -> None:
    bins = _table(_bin(1, capacity_units=100, units=60))
    assert choose_bin(ITEM, 40, bins).fits
    decision = choose_bin(ITEM, 41, bins)
    assert not decision.fits
    assert decision.excluded["units"] == 1
    assert decision.reasons == (
        "no bin fits 41 units of SKU-1 among 1 bins",
        "1 excluded: less than 41 units of room",
    )


def test_volume_and_weight_limits_exclude_bins_when_the_item_has_dimensions() -> None:
    boxed = PutawayItem(item_id=1, sku="BOX", length_mm=100, width_mm=100, height_mm=100,
                        weight_g=2_000)  # fmt: skip
    bins = _table(
        _bin(1, max_volume_mm3=5_000_000),  # 5 boxes
        _bin(2, max_weight_g=15_000),  # 7 boxes
        _bin(3, max_volume_mm3=50_000_000, max_weight_g=50_000),
    )
    decision = choose_bin(boxed, 10, bins)
    assert decision.chosen is not None and decision.chosen.code == "B-03"
    assert decision.excluded["volume"] == 1 and decision.excluded["weight"] == 1
    undimensioned = choose_bin(ITEM, 10, bins)
    assert undimensioned.feasible == 3
    assert "volume not checked: the item has no dimensions" in undimensioned.reasons


def test_a_fast_mover_goes_nearest_dispatch_and_a_slow_mover_farthest() -> None:
    bins = _table(_bin(1, distance=10), _bin(2, distance=50), _bin(3, distance=90))
    velocities: tuple[VelocityClass, ...] = ("A", "B", "C")
    pick = {
        v: choose_bin(PutawayItem(item_id=1, velocity_class=v), 5, bins).chosen for v in velocities
    }
    assert {v: c.code for v, c in pick.items() if c} == {"A": "B-01", "B": "B-02", "C": "B-03"}


def test_consolidating_with_the_same_item_and_lot_beats_a_nearer_empty_bin() -> None:
    bins = _table(_bin(1, distance=0), _bin(2, distance=100, items_held=1, units=10),
                  _bin(3, distance=100, items_held=1, units=10))  # fmt: skip
    item = PutawayItem(item_id=1, sku="SKU-1", velocity_class="A", lot_id=42)
    holdings = Holdings(same_item=frozenset({2, 3}), same_lot=frozenset({3}))
    decision = choose_bin(item, 5, bins, holdings=holdings)
    assert decision.chosen is not None and decision.chosen.code == "B-03"
    assert decision.chosen.consolidation == 1.0
    # Another lot of the same item far away scores below the near empty bin (0.5 × 4 < 3).
    assert [a.code for a in decision.alternatives] == ["B-01", "B-02"]
    assert "holds the same item and lot → 1.00" in decision.reasons


def test_an_empty_bin_is_preferred_to_one_holding_other_items() -> None:
    bins = _table(_bin(1, items_held=2), _bin(2))
    decision = choose_bin(ITEM, 5, bins)
    assert decision.chosen is not None and decision.chosen.code == "B-02"
    assert decision.alternatives[0].mixing == pytest.approx(2 / 3)


def test_the_tighter_fit_wins_when_everything_else_is_equal() -> None:
    bins = _table(_bin(1, capacity_units=1_000), _bin(2, capacity_units=50))
    decision = choose_bin(ITEM, 40, bins)
    assert decision.chosen is not None and decision.chosen.code == "B-02"
    assert decision.chosen.fill == pytest.approx(0.8)
    assert "80% full after putaway → 0.80" in decision.reasons


def test_equal_scores_go_to_the_bin_nearer_dispatch_then_the_lower_id() -> None:
    bins = _table(_bin(5, distance=3), _bin(4, distance=3), _bin(1, distance=7))
    decision = choose_bin(ITEM, 1, bins, weights=Weights(velocity=0.0))
    assert [decision.chosen.code if decision.chosen else None] == ["B-04"]
    assert [a.code for a in decision.alternatives] == ["B-05", "B-01"]


def test_a_pick_face_purpose_accepts_only_pick_bins() -> None:
    bins = _table(_bin(1), _bin(2, kind="pick"), _bin(3, kind="dock"))
    decision = choose_bin(ITEM, 5, bins, purpose="pick_face")
    assert decision.chosen is not None and decision.chosen.code == "B-02"
    assert decision.excluded["kind"] == 2


def test_the_decision_gives_as_many_alternatives_as_asked_best_first() -> None:
    bins = _table(*(_bin(i, distance=i) for i in range(1, 21)))
    decision = choose_bin(PutawayItem(item_id=1, velocity_class="A"), 1, bins, alternatives=5)
    assert [a.location_id for a in decision.alternatives] == [2, 3, 4, 5, 6]
    scores = [decision.chosen.score if decision.chosen else 0.0]
    scores += [a.score for a in decision.alternatives]
    assert scores == sorted(scores, reverse=True)


def test_a_no_fit_answer_counts_each_bin_under_the_first_constraint_it_fails() -> None:
    bins = _table(
        _bin(1, kind="dock"),
        _bin(2, kind="dock", temperature_class="frozen"),
        _bin(3, temperature_class="frozen"),
        _bin(4, capacity_units=3),
    )
    decision = choose_bin(ITEM, 5, bins)
    assert not decision.fits
    assert {k: v for k, v in decision.excluded.items() if v} == {
        "kind": 2,
        "temperature": 1,
        "units": 1,
    }
    assert decision.reasons[1:] == (
        "2 excluded: storage kind not bulk, pick, storage",
        "1 excluded: temperature class not ambient",
        "1 excluded: less than 5 units of room",
    )


def test_the_chosen_bin_explains_itself_with_its_numbers() -> None:
    bins = _table(_bin(1, capacity_units=100, units=60, distance=12))
    decision = choose_bin(ITEM, 40, bins)
    assert decision.reasons[:4] == (
        "B-01: storage kind storage allowed for putaway",
        "hazard class none matches",
        "temperature class ambient matches",
        "room for 40 units (40 of 100 free)",
    )
    assert decision.reasons[-1] == "score 2.00; 1 of 1 bins fit"


def test_confirming_a_bin_of_the_wrong_temperature_class_names_the_problem() -> None:
    bins = _table(_bin(1, code="A-01-01", temperature_class="frozen"), _bin(2))
    violations = check_bin(ITEM, 5, bins, 1)
    assert [(v.constraint, v.message) for v in violations] == [
        ("temperature", "bin A-01-01 is temperature class frozen; SKU-1 needs ambient")
    ]
    assert check_bin(ITEM, 5, bins, 2) == ()


def test_confirming_an_overfull_or_unknown_bin_is_refused_with_reasons() -> None:
    heavy = PutawayItem(item_id=1, sku="SKU-1", weight_g=1_500)
    bins = _table(_bin(1, capacity_units=10, units=8, max_weight_g=10_000))
    messages = [v.message for v in check_bin(heavy, 10, bins, 1)]
    assert messages == [
        "bin B-01 has room for 2 units; 10 to put away",
        "bin B-01 takes 10.0 kg more; 15.0 kg to put away",
    ]
    assert [v.constraint for v in check_bin(heavy, 1, bins, 99)] == ["location"]


def test_a_table_updated_after_a_putaway_sees_the_bin_fuller() -> None:
    bins = _table(_bin(1, capacity_units=100), _bin(2, capacity_units=100))
    after = bins.with_contents(1, units=80, volume_mm3=0, weight_g=0, items_held=1)
    assert choose_bin(ITEM, 30, after).chosen.code == "B-02"  # type: ignore[union-attr]
    assert bins.units.tolist() == [0.0, 0.0]  # the original table is unchanged
    with pytest.raises(ValidationFailed) as error:
        bins.with_contents(9, units=1, volume_mm3=0, weight_g=0, items_held=1)
    assert error.value.field == "location_id"


def test_a_site_without_bins_fits_nothing_and_refuses_every_bin() -> None:
    empty = BinTable.from_rows([])
    decision = choose_bin(ITEM, 1, empty, holdings=Holdings(same_item=frozenset({1})))
    assert not decision.fits and decision.candidates == 0
    assert [v.constraint for v in check_bin(ITEM, 1, empty, 1)] == ["location"]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: choose_bin(ITEM, 0, _table(_bin(1))), "quantity"),
        (lambda: choose_bin(ITEM, 2, _table(_bin(1)), purpose="attic"), "purpose"),  # type: ignore[arg-type]
        (lambda: PutawayItem(item_id=1, velocity_class="D"), "velocity_class"),  # type: ignore[arg-type]
        (lambda: PutawayItem(item_id=1, weight_g=-1), "weight_g"),
        (lambda: _table(_bin(1), _bin(1)), "location_id"),
        (lambda: _table(_bin(1, kind="roof")), "kind"),
    ],
)
def test_bad_input_is_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


_bins = st.lists(
    st.builds(
        BinRow,
        location_id=st.integers(1, 10_000),
        code=st.just("X"),
        kind=st.sampled_from(["storage", "pick", "bulk", "staging", "dock"]),
        hazard_class=st.sampled_from([None, "3", "8"]),
        temperature_class=st.sampled_from([None, "ambient", "chilled"]),
        capacity_units=st.one_of(st.none(), st.integers(0, 200)),
        max_volume_mm3=st.one_of(st.none(), st.integers(0, 10**9)),
        max_weight_g=st.one_of(st.none(), st.integers(0, 10**6)),
        units=st.integers(0, 100),
        volume_mm3=st.integers(0, 10**8),
        weight_g=st.integers(0, 10**5),
        items_held=st.integers(0, 4),
        distance=st.one_of(st.none(), st.floats(0, 500)),
    ),
    max_size=40,
    unique_by=lambda b: b.location_id,
)
_items = st.builds(
    PutawayItem,
    item_id=st.just(1),
    velocity_class=st.sampled_from(["A", "B", "C"]),
    hazard_class=st.sampled_from([None, "3"]),
    temperature_class=st.sampled_from([None, "chilled"]),
    length_mm=st.one_of(st.none(), st.integers(1, 500)),
    width_mm=st.integers(1, 500),
    height_mm=st.integers(1, 500),
    weight_g=st.one_of(st.none(), st.integers(1, 5_000)),
    lot_id=st.one_of(st.none(), st.just(9)),
)


@settings(max_examples=200, deadline=None)
@given(rows=_bins, item=_items, quantity=st.integers(1, 150), held=st.sets(st.integers(1, 10_000)))
def test_putaway_never_returns_a_bin_that_breaks_a_hard_constraint(
    rows: list[BinRow], item: PutawayItem, quantity: int, held: set[int]
) -> None:
    bins = BinTable.from_rows(rows)
    holdings = Holdings(same_item=frozenset(held), same_lot=frozenset(list(held)[:3]))
    decision = choose_bin(item, quantity, bins, holdings=holdings, alternatives=5)
    offered = ([decision.chosen] if decision.chosen else []) + list(decision.alternatives)
    for score in offered:
        assert check_bin(item, quantity, bins, score.location_id) == ()
    fitting = [r.location_id for r in rows if not check_bin(item, quantity, bins, r.location_id)]
    assert decision.feasible == len(fitting)
    assert sum(decision.excluded.values()) == len(rows) - len(fitting)
    every = choose_bin(item, quantity, bins, holdings=holdings, alternatives=len(rows))
    ranked = ([every.chosen] if every.chosen else []) + list(every.alternatives)
    assert sorted(s.location_id for s in ranked) == sorted(fitting)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
