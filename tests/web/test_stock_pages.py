"""The stock explorer on its HTML: search, the item page's positions per site and bin, ATP,
moves paged; site scope and cost visibility exactly as the API decides them."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item
from tests.support.world import build_world, receive
from tests.web.conftest import browser_as, text_of


def _stocked(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 100, "A-01", "WH1")
    receive(db, "SKU-1", 40, "A-02", "WH1")
    receive(db, "SKU-1", 70, "A-01", "WH2")
    db.run(
        lambda c: c.execute(
            sa.update(item)
            .where(item.c.sku == "SKU-1")
            .values(unit_cost=Decimal("12.345600"), description="Hex bolt M8")
        )
    )


def test_search_finds_items_by_sku_prefix_and_description_words(db: Database) -> None:
    _stocked(db)
    with browser_as(db, "planner") as client:
        by_sku = client.get("/items", params={"q": "sku-"})
        assert by_sku.status_code == 200
        assert "/items/SKU-1" in by_sku.text and "/items/SKU-2" in by_sku.text
        by_words = client.get("/items", params={"q": "bolt"})
        assert "/items/SKU-1" in by_words.text and "/items/SKU-2" not in by_words.text
        wildcard = client.get("/items", params={"q": "%"})
        assert "/items/SKU-1" not in wildcard.text  # % is a character, not a wildcard
        assert "No item matches" in wildcard.text


def test_the_item_page_shows_on_hand_per_site_and_the_positions_by_bin(db: Database) -> None:
    _stocked(db)
    with browser_as(db, "planner") as client:
        page = client.get("/items/SKU-1")
        assert page.status_code == 200
        text = text_of(page.text)
        assert "WH1 140 0 140 0" in text and "WH2 70 0 70 0" in text
        assert "All your sites 210" in text
        assert "WH1 A-01 available OWN 100" in text.replace("  ", " ")
        assert "At WH1 up to" in text and "140 to promise" in text


def test_a_site_bound_operator_sees_nothing_of_another_site(db: Database) -> None:
    _stocked(db)
    with browser_as(db, "warehouse_operator", ["WH1"]) as client:
        pages = [client.get(p) for p in ("/items/SKU-1", "/items?q=SKU", "/tasks", "/")]
        for page in pages:
            assert page.status_code == 200
            assert "WH2" not in page.text, page.url
        assert "All your sites 140" in text_of(pages[0].text)
        # Asking for the other site's ATP is answered as for an unknown site.
        other = client.get("/items/SKU-1", params={"site": "WH2"})
        assert other.status_code == 422 and "unknown site" in other.text
        assert "70" not in text_of(other.text)


def test_cost_fields_are_absent_for_roles_without_cost_access(db: Database) -> None:
    _stocked(db)
    with browser_as(db, "planner") as planner:
        assert "12.345600" in planner.get("/items/SKU-1").text
        assert "12.345600" in planner.get("/items", params={"q": "SKU"}).text
    with browser_as(db, "warehouse_operator") as operator:
        for path in ("/items/SKU-1", "/items?q=SKU"):
            html = operator.get(path).text
            assert "12.345600" not in html and "Unit cost" not in html, path


def test_recent_moves_are_paged_newest_first(db: Database) -> None:
    build_world(db)
    for n in range(1, 26):
        receive(db, "SKU-1", n, "A-01", "WH1")
    with browser_as(db, "planner") as client:
        page = client.get("/items/SKU-1")
        first = [int(q) for q in re.findall(r'<td class="num">(\d+)</td><td>RECEIPT', page.text)]
        assert first == list(range(25, 5, -1))
        older = re.search(r'hx-get="(/items/SKU-1/moves\?before=\d+)"', page.text)
        assert older
        rest = client.get(older.group(1), headers={"HX-Request": "true"})
        quantities = re.findall(r'<td class="num">(\d+)</td><td>RECEIPT', rest.text)
        assert [int(q) for q in quantities] == [5, 4, 3, 2, 1]
        assert "<html" not in rest.text  # a fragment for htmx, not a page
        assert "before=" not in rest.text


def test_an_unknown_item_is_a_page_saying_so(db: Database, client: TestClient) -> None:
    build_world(db)
    with browser_as(db, "planner") as signed_in:
        page = signed_in.get("/items/NOPE")
        assert page.status_code == 404 and "item &#39;NOPE&#39; not found" in page.text
