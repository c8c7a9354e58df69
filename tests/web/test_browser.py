"""The pages in a real browser (Debian's Chromium, headless) against a real server: sign in,
look up an item, accept and override proposals, and — on a 360 × 640 phone viewport — receive,
put away and pick by typing scan strings into the focused scan field. Every page loads nothing
from outside 127.0.0.1 and passes axe-core with no serious or critical violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser

from stockpilot.persistence.db import Database
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM
from tests.integration.test_planning_run import AS_OF, _network
from tests.support.world import build_world, receive
from tests.web.browser import PHONE, Server, assert_accessible, browser, server, visit
from tests.web.conftest import PASSWORD, web_user
from tests.web.warehouse_world import GTIN, warehouse_world

__all__ = ["browser", "server"]  # fixtures

pytestmark = pytest.mark.xdist_group("browser")


def test_sign_in_look_up_an_item_and_sign_out(
    db: Database, server: Server, browser: Browser
) -> None:
    build_world(db)
    receive(db, "SKU-1", 100, "A-01", "WH1")
    receive(db, "SKU-1", 70, "A-01", "WH2")
    name = web_user(db, "planner")
    me = visit(browser, server)
    try:
        me.go("/items/SKU-1")
        assert me.page.url == server.url + "/login"  # signed out: sent to sign in
        assert_accessible(me.page)
        me.page.fill('input[name="username"]', name)
        me.page.fill('input[name="password"]', "not the password")
        me.page.click('button[type="submit"]')
        assert "user name or the password is wrong" in me.page.inner_text("main")
        me.sign_in(name, PASSWORD)
        assert_accessible(me.page)
        me.page.fill("#q", "SKU-1")
        me.press_enter()
        me.page.wait_for_url(re.compile(r".*/items\?q=SKU-1"))
        assert_accessible(me.page)
        me.page.click('main a[href="/items/SKU-1"]')
        me.page.wait_for_url(server.url + "/items/SKU-1")
        per_site = me.page.inner_text("#per-site")
        assert re.search(r"WH1\s+100", per_site) and re.search(r"WH2\s+70", per_site)
        assert_accessible(me.page)
        me.page.select_option("#atp-site", "WH2")
        me.submit('button:has-text("Show")')
        assert "At WH2" in me.page.inner_text("#atp-total")
        me.submit('button:has-text("Sign out")')
        me.page.wait_for_url(server.url + "/login")
        me.go("/items/SKU-1")
        assert me.page.url == server.url + "/login"
        assert me.outside_requests() == []
        assert me.errors == []
    finally:
        me.context.close()


def test_accept_and_override_proposals_and_see_the_chart(
    db: Database, server: Server, browser: Browser
) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    name = web_user(db, "planner")
    me = visit(browser, server)
    try:
        me.sign_in(name, PASSWORD)
        me.go("/proposals?kind=transfer")
        assert "Transfer from HUB to BR1" in me.page.inner_text("main")
        assert_accessible(me.page)
        me.submit("main table a >> nth=0")
        me.page.wait_for_url(re.compile(r".*/proposals/\d+$"))
        assert_accessible(me.page)
        suggested = me.page.input_value("#quantity")
        me.page.fill("#quantity", str(int(suggested) + 1))
        me.page.select_option("#reason_code", "COUNT")
        me.submit('button:has-text("Override")')
        assert f"Quantity set to {int(suggested) + 1} (COUNT)" in me.page.inner_text("main")
        me.submit('button[value="accept"]')
        assert "Accepted:" in me.page.inner_text("main")
        # The rest in bulk: tick all, accept.
        me.go("/proposals?kind=purchase")
        me.page.check("[data-select-all]")
        me.submit('button[value="accept"]')
        assert "Accepted:" in me.page.inner_text(".notice")
        me.go("/item-locations/HUB/FAST")
        me.page.wait_for_selector(".uplot canvas")
        assert "Measured error (MASE)" in me.page.inner_text("main")
        assert_accessible(me.page)
        assert me.outside_requests() == []
        assert me.errors == []
    finally:
        me.context.close()


def test_on_a_phone_receive_put_away_and_pick_by_scanning(
    db: Database, server: Server, browser: Browser
) -> None:
    world = warehouse_world(db)
    name = web_user(db, "warehouse_operator", ["WH1"])
    me = visit(browser, server, viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        me.sign_in(name, PASSWORD)
        me.go("/receive")
        assert_accessible(me.page)
        me.page.fill("#purchase_order", str(world.purchase_order))
        me.page.focus("#scan")
        me.page.keyboard.type(f"(01){GTIN}(30)40")  # the scanner types, then Enter
        me.press_enter()
        me.page.wait_for_selector("#receipt-done")
        assert "40 × SKU-1 at DOCK-1" in me.page.inner_text("#receipt-done")

        me.go("/tasks")
        assert_accessible(me.page)
        button = me.page.locator('button:has-text("My next task")').bounding_box()
        assert button is not None and button["height"] >= 44  # a touch target
        me.page.select_option("#type", "putaway")
        me.submit('button:has-text("My next task")')
        me.page.wait_for_selector("#task-to")
        directed = me.page.inner_text("#task-to").strip()
        assert me.page.evaluate("document.activeElement.id") == "scan"
        assert_accessible(me.page)
        me.page.keyboard.type(directed)
        me.press_enter()
        assert f"40 × SKU-1 at {directed}" in me.page.inner_text(".notice")

        me.page.select_option("#type", "pick")
        me.submit('button:has-text("My next task")')
        me.page.wait_for_selector("#task-from")
        me.page.fill("#quantity", "4")
        me.page.check('input[name="short"]')
        me.page.focus("#scan")
        me.page.keyboard.type("A-01")
        me.press_enter()
        assert "4 × SKU-1 at A-01" in me.page.inner_text(".notice")
        width = me.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, width
        assert me.outside_requests() == []
        assert me.errors == []
    finally:
        me.context.close()


def test_a_supervisor_plans_and_releases_a_wave(
    db: Database, server: Server, browser: Browser
) -> None:
    warehouse_world(db, waved=False)
    name = web_user(db, "warehouse_supervisor", ["WH1"])
    me = visit(browser, server)
    try:
        me.sign_in(name, PASSWORD)
        me.submit('nav a[href="/waves"]')
        assert_accessible(me.page)
        me.page.uncheck('input[name="by"][value="ship_date"]')
        me.submit('button:has-text("Plan waves")')
        assert "1 wave planned" in me.page.inner_text(".notice")
        me.submit('button:has-text("Release wave")')
        assert "pick task(s) on the floor" in me.page.inner_text(".notice")
        assert_accessible(me.page)
        me.go("/tasks")
        assert "pick" in me.page.inner_text("#queue")
        assert me.outside_requests() == []
        assert me.errors == []
    finally:
        me.context.close()


def test_run_a_scenario_and_compare_it_with_the_baseline(
    db: Database, server: Server, browser: Browser
) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    name = web_user(db, "planner")
    me = visit(browser, server)
    try:
        me.sign_in(name, PASSWORD)
        me.go("/scenarios")
        assert_accessible(me.page)
        me.page.fill("#name", "demand up")
        me.page.select_option("#kind", "demand_spike")
        me.page.fill("#demand_change_pct", "50")
        me.page.click('button:has-text("Run scenario")')  # htmx: the page is swapped in place
        me.page.wait_for_selector("#comparison")
        table = me.page.inner_text("#comparison")
        assert "baseline" in table and "demand up" in table
        me.page.wait_for_selector(".uplot canvas")
        assert_accessible(me.page)
        assert me.outside_requests() == []
        assert me.errors == []
    finally:
        me.context.close()


PAGES = (
    "/",
    "/items?q=FAST",
    "/items/FAST",
    "/items/NOPE",  # a problem page
    "/proposals",
    "/proposals/1",
    "/proposals/scores",
    "/item-locations/HUB/FAST",
    "/scenarios",
    "/tasks?site=HUB",
    "/receive?site=HUB",
    "/waves",
    "/approvals",
)


def test_every_page_loads_only_from_this_server_and_passes_axe(
    db: Database, server: Server, browser: Browser
) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    name = web_user(db, "admin")
    me = visit(browser, server)
    try:
        me.go("/login")
        assert_accessible(me.page)
        me.sign_in(name, PASSWORD)
        for path in PAGES:
            me.go(path)
            assert_accessible(me.page)
        assert me.outside_requests() == []
        assert me.errors == []
        assert len(me.requests) > len(PAGES)
    finally:
        me.context.close()


def test_a_second_supervisor_approves_a_count_variance(
    db: Database, server: Server, browser: Browser
) -> None:
    """A supervisor asked for a count of A-02; an operator counted 3 short; another supervisor
    opens the approvals, approves the count, and the variance posts."""
    from tests.web.test_supervisor_pages import _counted_bin

    build_world(db)
    receive(db, "SKU-1", 20, "A-02")
    count_id = _counted_bin(db, web_user(db, "warehouse_supervisor", ["WH1"]))
    name = web_user(db, "warehouse_supervisor", ["WH1"])
    me = visit(browser, server)
    try:
        me.sign_in(name, PASSWORD)
        me.go("/approvals")
        assert f"count-{count_id}" in me.page.content()
        assert_accessible(me.page)
        me.submit(f'button:has-text("Approve count {count_id}")')
        notice = me.page.inner_text(".notice")
        assert f"Count {count_id} approved: its variance of -3 unit(s) is posted" in notice
        assert_accessible(me.page)
        assert me.outside_requests() == []
        assert me.errors == []
    finally:
        me.context.close()
