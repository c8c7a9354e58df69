"""A receipt's lines decided together: the same scores as one line alone, and no bin overfilled
by the lines of one receipt."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.tasks.putaway import (
    BinRow,
    BinTable,
    Holdings,
    PutawayItem,
    PutawayRequest,
    check_bin,
    choose_bin,
    choose_bins,
)
from tests.unit.tasks.test_putaway import _bins, _items

_requests = st.lists(
    st.builds(
        PutawayRequest,
        item=_items,
        quantity=st.integers(1, 150),
        holdings=st.builds(
            Holdings,
            same_item=st.frozensets(st.integers(1, 10_000), max_size=5),
            same_lot=st.frozensets(st.integers(1, 10_000), max_size=3),
        ),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(rows=_bins, request=_requests.map(lambda r: r[0]))
def test_one_line_gets_exactly_the_bin_choose_bin_gives_it(
    rows: list[BinRow], request: PutawayRequest
) -> None:
    bins = BinTable.from_rows(rows)
    alone = choose_bin(request.item, request.quantity, bins, holdings=request.holdings)
    expected = alone.chosen.location_id if alone.chosen is not None else None
    assert choose_bins([request], bins) == (expected,)


@settings(max_examples=300, deadline=None)
@given(rows=_bins, requests=_requests)
def test_the_lines_of_one_receipt_never_overfill_a_bin_together(
    rows: list[BinRow], requests: list[PutawayRequest]
) -> None:
    bins = BinTable.from_rows(rows)
    chosen = choose_bins(requests, bins)
    assert len(chosen) == len(requests)
    by_row = {r.location_id: r for r in rows}
    promised: dict[int, list[PutawayRequest]] = defaultdict(list)
    for request, location_id in zip(requests, chosen, strict=True):
        if location_id is None:
            continue
        # Each choice keeps every hard constraint for the line on its own ...
        assert check_bin(request.item, request.quantity, bins, location_id) == ()
        promised[location_id].append(request)
    # ... and all lines sent to one bin fit in it together.
    for location_id, sent in promised.items():
        b = by_row[location_id]
        units = sum(r.quantity for r in sent)
        if b.capacity_units is not None:
            assert b.units + units <= b.capacity_units
        # Volume and weight bind the lines whose item has them (the others are not checked).
        sized = [r for r in sent if r.item.unit_volume_mm3 is not None]
        if b.max_volume_mm3 is not None and sized:
            need = sum((r.item.unit_volume_mm3 or 0) * r.quantity for r in sized)
            assert b.volume_mm3 + need <= b.max_volume_mm3
        weighed = [r for r in sent if r.item.weight_g is not None]
        if b.max_weight_g is not None and weighed:
            need = sum((r.item.weight_g or 0) * r.quantity for r in weighed)
            assert b.weight_g + need <= b.max_weight_g


def test_a_line_that_no_longer_fits_its_bin_goes_to_the_next_best() -> None:
    """Two pallets of 60 for a fast mover: the nearest bin (room 100) takes the first; the
    second would overfill it and goes to the next best; a third of 90 fits nowhere."""
    bins = BinTable.from_rows(
        [
            BinRow(1, "NEAR", "storage", capacity_units=100, distance=1),
            BinRow(2, "MID", "storage", capacity_units=100, distance=20),
            BinRow(3, "FAR", "storage", capacity_units=70, distance=40),
        ]
    )
    fast = PutawayItem(item_id=7, sku="SKU-7", velocity_class="A")
    got = choose_bins(
        [PutawayRequest(fast, 60), PutawayRequest(fast, 60), PutawayRequest(fast, 60)], bins
    )
    assert got == (1, 2, 3)
    assert choose_bins([PutawayRequest(fast, 60)] * 3 + [PutawayRequest(fast, 90)], bins)[3] is None


def test_lines_with_room_to_spare_are_each_decided_as_alone() -> None:
    bins = BinTable.from_rows(
        [BinRow(i, f"B-{i}", "storage", distance=float(i)) for i in range(1, 30)]
    )
    items = [
        PutawayItem(item_id=i, sku=f"S{i}", velocity_class="ABC"[i % 3])  # type: ignore[arg-type]
        for i in range(12)
    ]
    requests = [PutawayRequest(it, 5, Holdings(frozenset({it.item_id + 3}))) for it in items]
    alone = tuple(
        choose_bin(r.item, r.quantity, bins, holdings=r.holdings).chosen.location_id  # type: ignore[union-attr]
        for r in requests
    )
    assert choose_bins(requests, bins) == alone
