"""The stock look-up page is served by the app and loads nothing from elsewhere."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database


def test_the_page_is_served_with_its_local_assets(db: Database, client: TestClient) -> None:
    page = client.get("/lookup")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/app.js" in assets and "/static/style.css" in assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200


def test_no_asset_refers_to_another_origin(db: Database, client: TestClient) -> None:
    for path in ("/lookup", "/static/app.js", "/static/style.css"):
        text = client.get(path).text
        assert not re.search(r"https?://", text), path
        assert "@import" not in text and "//cdn" not in text


def test_the_page_looks_up_items_and_stock_through_the_api(
    db: Database, client: TestClient
) -> None:
    script = client.get("/static/app.js").text
    assert "/items/" in script and "/stock?" in script
    assert "sessionStorage" in script and "localStorage" not in script
    assert "innerHTML" not in script  # server data is written as text only


def test_the_page_is_labelled_for_assistive_technology(db: Database, client: TestClient) -> None:
    html = client.get("/lookup").text
    assert '<html lang="en">' in html
    for field in ("token", "sku", "site"):
        assert f'<label for="{field}">' in html or f'<label for="{field}"' in html
    assert 'role="alert"' in html and "<caption>" in html and 'scope="col"' in html
