"""Supplier minimum order value and free-freight threshold in purchase-proposal grouping."""

from __future__ import annotations

import polars as pl

from stockpilot.planning.order_terms import apply_order_terms


def _proposals(lines: list[tuple[str, int, float]], supplier: str = "S1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "kind": ["purchase"] * len(lines),
            "item": [i for i, _, _ in lines],
            "site": ["HUB"] * len(lines),
            "from_site": [None] * len(lines),
            "supplier": [supplier] * len(lines),
            "quantity": [q for _, q, _ in lines],
            "unit_cost": [c for _, _, c in lines],
            "value": [q * c for _, q, c in lines],
            "group_key": [f"PO:{supplier}:HUB"] * len(lines),
            "trigger": ["position at or below s"] * len(lines),
            "explanation": ["{}"] * len(lines),
        },
        schema_overrides={"from_site": pl.String},
    )


TERMS = pl.DataFrame(
    {"supplier": ["S1"], "min_order_value": [500.0], "free_freight_value": [1000.0]}
)
PACKS = pl.DataFrame({"item": ["A", "B"], "pack_size": [10.0, 1.0]})


def test_an_order_just_under_the_minimum_is_raised_to_it_in_whole_packs() -> None:
    # 400 + 50 = 450, 50 short of 500 (10 % of it): both lines grow by 500/450.
    out = apply_order_terms(_proposals([("A", 40, 10.0), ("B", 50, 1.0)]), TERMS, PACKS)
    quantities = dict(zip(out["item"], out["quantity"], strict=True))
    assert quantities["A"] % 10 == 0
    assert sum(q * c for q, c in zip(out["quantity"], out["unit_cost"], strict=True)) >= 500
    assert all("minimum order value 500" in t for t in out["trigger"])


def test_an_order_far_under_the_minimum_is_held_unchanged() -> None:
    out = apply_order_terms(_proposals([("A", 10, 10.0)]), TERMS, PACKS)  # 100 of 500
    assert out["quantity"].to_list() == [10]
    assert out["trigger"][0].endswith("held: order value 100 below the supplier's minimum 500")


def test_an_order_near_free_freight_is_topped_up_and_one_far_from_it_is_not() -> None:
    near = apply_order_terms(_proposals([("B", 800, 1.0)]), TERMS, PACKS)  # 200 short of 1000
    assert near["quantity"].to_list() == [1000]
    assert "free-freight threshold 1000" in near["trigger"][0]
    far = apply_order_terms(_proposals([("B", 600, 1.0)]), TERMS, PACKS)  # 400 short: 40 %
    assert far["quantity"].to_list() == [600]
    assert far["trigger"][0] == "position at or below s"


def test_suppliers_without_terms_and_transfers_pass_through() -> None:
    other = _proposals([("A", 1, 10.0)], supplier="S9")
    assert apply_order_terms(other, TERMS, PACKS).equals(other)
