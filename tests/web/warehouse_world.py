"""A warehouse ready for the scanner screens, set up through the API: WH1 with a dock, reserve
bins and SKU-1's pick face A-01 holding 6; a confirmed purchase order of 40 SKU-1 from S1; an
order of 6 SKU-1 waved and released, so a pick task from A-01 waits."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.persistence.db import Database
from stockpilot.persistence.warehouse_tables import item_gtin
from tests.api.conftest import api_settings, auth, make_user
from tests.integration.outbound_world import add_pick_face
from tests.support.world import build_world

API = "/api/v1"
GTIN = "09506000134352"  # SKU-1's GTIN-14 (valid GS1 check digit)


@dataclass(frozen=True)
class Warehouse:
    purchase_order: int
    sales_order: int


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def warehouse_world(db: Database, *, waved: bool = True) -> Warehouse:
    """The warehouse; ``waved=False`` leaves the order in no wave."""
    build_world(db)
    with TestClient(create_app(db, api_settings())) as client:
        h = auth(make_user(db, "admin"))
        _ok(client.post(API + "/suppliers", json={"code": "S1", "name": "Acme"}, headers=h), 201)
        for code, kind, seq in (
            ("DOCK-1", "dock", 0),
            ("R-01", "storage", 8),
            ("R-02", "storage", 9),
        ):
            body = {"site": "WH1", "code": code, "type": kind, "walk_sequence": seq}
            _ok(client.post(API + "/locations", json=body, headers=h), 201)
        with db.engine.begin() as conn:
            item_id = conn.execute(sa.text("SELECT id FROM item WHERE sku = 'SKU-1'")).scalar_one()
            conn.execute(item_gtin.insert().values(gtin=GTIN, item_id=item_id))
        add_pick_face(db, "A-01", "SKU-1", 4, 12)
        po_body = {
            "site": "WH1",
            "supplier": "S1",
            "number": "PO-7001",
            "lines": [{"sku": "SKU-1", "quantity": 40, "expected_date": "2026-12-01"}],
        }
        po = _ok(client.post(API + "/purchase-orders", json=po_body, headers=h), 201)
        line = {"sku": "SKU-1", "quantity": 6, "location": "A-01"}
        _ok(client.post(API + "/receipts", json={"site": "WH1", "lines": [line]}, headers=h), 201)
        _ok(
            client.post(
                API + "/routes",
                json={"site": "WH1", "code": "PM", "cutoff_time": "23:00"},
                headers=h,
            ),
            201,
        )
        order = {
            "site": "WH1",
            "customer": "C1",
            "route": "PM",
            "promised_date": "2099-12-31",
            "lines": [{"sku": "SKU-1", "quantity": 6}],
        }
        so = _ok(client.post(API + "/sales-orders", json=order, headers=h), 201)
        if not waved:
            return Warehouse(purchase_order=int(po["id"]), sales_order=int(so["id"]))
        wave = _ok(
            client.post(
                API + "/waves", json={"site": "WH1", "sales_orders": [so["id"]]}, headers=h
            ),
            201,
        )
        _ok(client.post(f"{API}/waves/{wave['id']}/release", headers=h))
    return Warehouse(purchase_order=int(po["id"]), sales_order=int(so["id"]))
