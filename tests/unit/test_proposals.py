"""Replenishment proposals: balance the network before buying, round purchases, explain all."""

from __future__ import annotations

import json

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.planning.proposals import propose

SITES = pl.DataFrame({"site": ["HUB", "BR1", "BR2"], "replenished_from": [None, "HUB", "HUB"]})
SOURCING = pl.DataFrame(
    {"item": ["A"], "supplier": ["S1"], "moq": [50.0], "pack_size": [25.0], "unit_cost": [2.0]}
)


def _policies(rows: dict[str, tuple[float, float]]) -> pl.DataFrame:
    sites = list(rows)
    return pl.DataFrame(
        {
            "item": ["A"] * len(sites),
            "site": sites,
            "reorder_point": [rows[s][0] for s in sites],
            "order_up_to": [rows[s][1] for s in sites],
            "safety_stock": [1.0] * len(sites),
            "forecast_per_period": [1.0] * len(sites),
            "lead_time_periods": [1.0] * len(sites),
            "service_level": [0.95] * len(sites),
            "method": ["ses"] * len(sites),
            "demand_class": ["smooth"] * len(sites),
        }
    )


def _positions(on_hand: dict[str, float], on_order: float = 0.0) -> pl.DataFrame:
    sites = list(on_hand)
    return pl.DataFrame(
        {
            "item": ["A"] * len(sites),
            "site": sites,
            "on_hand": [on_hand[s] for s in sites],
            "allocated": [0.0] * len(sites),
            "backorders": [0.0] * len(sites),
            "on_order": [on_order if s == "HUB" else 0.0 for s in sites],
            "in_transit": [0.0] * len(sites),
        }
    )


def test_surplus_at_a_branch_covers_a_shortage_before_anything_is_bought() -> None:
    policies = _policies({"HUB": (50, 100), "BR1": (20, 40), "BR2": (20, 40)})
    out = propose(policies, _positions({"HUB": 0, "BR1": 5, "BR2": 80}), SITES, SOURCING)
    transfers = out.filter(pl.col("kind") == "transfer")
    assert transfers.select("from_site", "site", "quantity").rows() == [("BR2", "BR1", 35)]


def test_a_branch_need_the_network_cannot_cover_goes_to_the_hub_which_then_buys() -> None:
    policies = _policies({"HUB": (50, 100), "BR1": (20, 40), "BR2": (20, 40)})
    out = propose(policies, _positions({"HUB": 60, "BR1": 0, "BR2": 30}), SITES, SOURCING)
    transfer = out.filter(pl.col("kind") == "transfer").row(0, named=True)
    assert (transfer["from_site"], transfer["site"], transfer["quantity"]) == ("HUB", "BR1", 40)
    purchase = out.filter(pl.col("kind") == "purchase").row(0, named=True)
    # Hub position 60 − 40 = 20 ≤ s = 50: order S − IP = 80, whole packs of 25 → 100.
    assert purchase["quantity"] == 100
    assert purchase["group_key"] == "PO:S1>HUB"
    assert purchase["value"] == 200.0
    explanation = json.loads(purchase["explanation"])
    assert explanation["inputs"]["inventory_position_after_transfers"] == 20.0
    assert "rounded up" in explanation["formula"]


def test_nothing_is_proposed_above_the_reorder_point() -> None:
    policies = _policies({"HUB": (50, 100), "BR1": (20, 40), "BR2": (20, 40)})
    out = propose(policies, _positions({"HUB": 70, "BR1": 30, "BR2": 30}), SITES, SOURCING)
    assert out.height == 0


def test_on_order_counts_in_the_inventory_position() -> None:
    policies = _policies({"HUB": (50, 100)})
    sites = pl.DataFrame({"site": ["HUB"], "replenished_from": [None]})
    out = propose(policies, _positions({"HUB": 10}, on_order=60), sites, SOURCING)
    assert out.height == 0


@settings(max_examples=60, deadline=None)
@given(
    hub=st.integers(0, 200),
    br1=st.integers(0, 200),
    br2=st.integers(0, 200),
    s=st.integers(0, 60),
    extra=st.integers(1, 60),
)
def test_purchases_are_whole_packs_at_least_the_moq_and_transfers_never_exceed_surplus(
    hub: int, br1: int, br2: int, s: int, extra: int
) -> None:
    policies = _policies({"HUB": (s, s + extra), "BR1": (s, s + extra), "BR2": (s, s + extra)})
    on_hand = {"HUB": float(hub), "BR1": float(br1), "BR2": float(br2)}
    out = propose(policies, _positions(on_hand), SITES, SOURCING)
    for row in out.iter_rows(named=True):
        if row["kind"] == "purchase":
            assert row["quantity"] >= 50 and row["quantity"] % 25 == 0
        elif row["from_site"] != "HUB":
            # Network balancing only moves what the source holds above its own order-up-to.
            assert row["quantity"] <= on_hand[row["from_site"]] - (s + extra)


def test_a_site_without_a_policy_explains_itself_in_strict_json() -> None:
    """A branch with backorders but no policy is brought back to zero; its explanation says it
    has no reorder point (null), never a non-JSON Infinity."""
    policies = _policies({"HUB": (50, 100), "BR2": (20, 40)})  # BR1 has no policy
    positions = _positions({"HUB": 80, "BR1": 0, "BR2": 30}).with_columns(
        backorders=pl.when(pl.col("site") == "BR1").then(6.0).otherwise(0.0)
    )
    out = propose(policies, positions, SITES, SOURCING)
    to_br1 = out.filter((pl.col("kind") == "transfer") & (pl.col("site") == "BR1"))
    assert to_br1["quantity"].to_list() == [6]

    def refuse(constant: str) -> None:
        raise AssertionError(f"explanation holds {constant}")

    for text in out["explanation"].to_list():
        json.loads(text, parse_constant=refuse)
    explained = json.loads(to_br1["explanation"][0])
    assert explained["inputs"]["reorder_point"] is None
