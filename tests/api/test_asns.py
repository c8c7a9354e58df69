"""ASNs through HTTP, as a supplier's EDI link and a receiver at the dock use them: an 856 is
stored with its pallets, lots and serials; scanning one pallet's SSCC receives exactly that
pallet to the dock with putaway tasks; a pallet received twice, an unknown SSCC, a bad check
digit, an over-announced PO line and a site out of scope are refused and write nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.inbound.scan import gs1_check_digit
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import balance, location
from stockpilot.persistence.warehouse_tables import asn, asn_line, item_gtin
from tests.api.conftest import assert_problem, auth, make_user, row_counts

API = "/api/v1"
GTIN = "09506000134352"  # SKU-1's GTIN-14, check digit valid
X12 = {"Content-Type": "application/edi-x12"}


def sscc(serial: int) -> str:
    """An SSCC-18 of the test company prefix with a valid check digit."""
    body = f"03401234500{serial:06d}"
    return body + str(gs1_check_digit(body))


@dataclass(frozen=True)
class Item:
    po_line: int
    sku: str
    quantity: int
    uom: str = "EA"
    lot: str | None = None
    expiry_date: date | None = None
    serials: tuple[str, ...] = ()


def x12_856(number: str, po: str, pallets: Sequence[tuple[str, Sequence[Item]]]) -> str:
    """One interchange with one 856: shipment → order → pallet (tare) → items, envelope
    counts right."""
    body = [
        f"BSN*00*{number}*20261128*1430",
        "HL*1**S",
        "DTM*011*20261128",
        "DTM*017*20261201",
        "N1*SF*Acme Tools*92*S1",
        "HL*2*1*O",
        f"PRF*{po}",
    ]
    hl = 2
    for code, items in pallets:
        hl += 1
        pallet = hl
        body += [f"HL*{pallet}*2*T", f"MAN*GM*{code}"]
        for it in items:
            hl += 1
            body += [f"HL*{hl}*{pallet}*I", f"LIN*{it.po_line}*BP*{it.sku}"]
            body.append(f"SN1**{it.quantity}*{it.uom}")
            if it.lot:
                body.append(f"REF*LT*{it.lot}")
            if it.expiry_date:
                body.append(f"DTM*036*{it.expiry_date:%Y%m%d}")
            body += [f"REF*SE*{s}" for s in it.serials]
    body.append(f"CTT*{hl}")
    segments = ["ST*856*0001", *body]
    segments.append(f"SE*{len(segments) + 1}*0001")
    isa = (
        "ISA*00*          *00*          *ZZ*SUPPLIER01     *ZZ*STOCKPILOT     "
        "*261128*1430*U*00401*000000101*0*P*>"
    )
    gs = "GS*SH*SUPPLIER01*STOCKPILOT*20261128*1430*101*X*004010"
    return "~\n".join([isa, gs, *segments, "GE*1*101", "IEA*1*000000101"]) + "~\n"


PALLET_A, PALLET_B = sscc(101), sscc(102)
SERIALS = ("SN-0001", "SN-0002", "SN-0003")


def two_pallets(number: str = "ASN-1001", po: str = "PO-1001") -> str:
    return x12_856(
        number,
        po,
        [
            (
                PALLET_A,
                [
                    Item(1, "SKU-1", 100),
                    Item(2, "LOT-1", 30, lot="L2611A", expiry_date=date(2028, 1, 31)),
                    Item(3, "SER-1", 3, serials=SERIALS),
                ],
            ),
            (PALLET_B, [Item(1, "SKU-1", 20), Item(2, "LOT-1", 20, lot="L2611B")]),
        ],
    )


@pytest.fixture
def world(client: TestClient, stocked: Database) -> dict[str, Any]:
    admin = make_user(stocked, "admin")
    h = auth(admin)
    assert client.post(
        API + "/suppliers", json={"code": "S1", "name": "Acme"}, headers=h
    ).is_success
    for code, kind in (("DOCK-1", "dock"), ("R-01", "storage"), ("R-02", "storage")):
        body = {"site": "WH1", "code": code, "type": kind, "walk_sequence": 5}
        assert client.post(API + "/locations", json=body, headers=h).status_code == 201
    with stocked.engine.begin() as conn:
        item_id = conn.execute(sa.text("SELECT id FROM item WHERE sku = 'SKU-1'")).scalar_one()
        conn.execute(item_gtin.insert().values(gtin=GTIN, item_id=item_id))
    buyer = make_user(stocked, "buyer")
    po = client.post(
        API + "/purchase-orders",
        json={
            "site": "WH1",
            "supplier": "S1",
            "number": "PO-1001",
            "lines": [
                {"sku": "SKU-1", "quantity": 120, "expected_date": "2026-12-01"},
                {"sku": "LOT-1", "quantity": 50},
                {"sku": "SER-1", "quantity": 3},
            ],
        },
        headers=auth(buyer),
    )
    assert po.status_code == 201, po.text
    return {
        "admin": admin,
        "buyer": buyer,
        "edi": make_user(stocked, "integration"),
        "receiver": make_user(stocked, "warehouse_operator", ["WH1"]),
        "outsider": make_user(stocked, "buyer", ["WH2"]),
        "po": po.json(),
    }


def _send_x12(client: TestClient, token: str, text: str, **headers: str) -> Any:
    return client.post(
        API + "/asns/x12", content=text.encode(), headers=auth(token, **X12, **headers)
    )


def _on_hand(db: Database, code: str) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(balance.c.quantity_on_hand), 0))
                .join(location, location.c.id == balance.c.location_id)
                .where(location.c.code == code, location.c.site_id == 1)
            ).scalar_one()
        )


def test_an_856_is_stored_with_its_pallets_lots_expiry_and_serials(
    client: TestClient, world: dict[str, Any]
) -> None:
    created = _send_x12(client, world["edi"], two_pallets())
    assert created.status_code == 201, created.text
    body = created.json()
    (asn_id,) = body["ids"]
    shown = client.get(f"{API}/asns/{asn_id}", headers=auth(world["buyer"])).json()
    assert body["asns"][0] == shown
    assert (shown["number"], shown["site"], shown["supplier"]) == ("ASN-1001", "WH1", "S1")
    assert (shown["status"], shown["source"], shown["expected_date"]) == (
        "open",
        "x12",
        "2026-12-01",
    )
    assert [(p["sscc"], p["lines"], p["received"]) for p in shown["pallets"]] == [
        (PALLET_A, 3, False),
        (PALLET_B, 2, False),
    ]
    lines = {(ln["sku"], ln["sscc"]): ln for ln in shown["lines"]}
    lot = lines[("LOT-1", PALLET_A)]
    assert (lot["lot"], lot["expiry_date"], lot["po_line"]) == ("L2611A", "2028-01-31", 2)
    assert lines[("SER-1", PALLET_A)]["serials"] == list(SERIALS)
    assert {ln["purchase_order"] for ln in shown["lines"]} == {world["po"]["id"]}
    listed = client.get(API + "/asns", params={"site": "WH1"}, headers=auth(world["buyer"]))
    assert [a["id"] for a in listed.json()["items"]] == [asn_id]


def test_scanning_a_pallet_receives_exactly_its_lines_to_the_dock_with_putaway_tasks(
    client: TestClient, stocked: Database, world: dict[str, Any]
) -> None:
    (asn_id,) = _send_x12(client, world["edi"], two_pallets()).json()["ids"]
    receipt = client.post(
        API + "/receipts", json={"site": "WH1", "sscc": PALLET_A}, headers=auth(world["receiver"])
    )
    assert receipt.status_code == 201, receipt.text
    body = receipt.json()
    assert body["asn"] == asn_id
    assert [(ln["sku"], ln["quantity"], ln["lot"], ln["sscc"]) for ln in body["lines"]] == [
        ("SKU-1", 100, None, PALLET_A),
        ("LOT-1", 30, "L2611A", PALLET_A),
        ("SER-1", 3, None, PALLET_A),
    ]
    assert {ln["location"] for ln in body["lines"]} == {"DOCK-1"}
    assert [ln["purchase_order_line"] for ln in body["lines"]] == [1, 2, 3]
    assert body["purchase_order"] == world["po"]["id"]
    assert body["purchase_order_status"] == "partially_received"
    assert _on_hand(stocked, "DOCK-1") == 133
    assert len(body["putaway_tasks"]) == 3
    tasks = client.get(
        API + "/tasks",
        params={"site": "WH1", "type": "putaway", "status": "open"},
        headers=auth(world["receiver"]),
    ).json()["items"]
    assert sorted(t["id"] for t in tasks) == sorted(body["putaway_tasks"])
    shown = client.get(f"{API}/asns/{asn_id}", headers=auth(world["buyer"])).json()
    assert shown["status"] == "receiving" and shown["receipts"] == [body["id"]]
    received = {(ln["sku"], ln["sscc"]): ln["quantity_received"] for ln in shown["lines"]}
    assert received == {
        ("SKU-1", PALLET_A): 100,
        ("LOT-1", PALLET_A): 30,
        ("SER-1", PALLET_A): 3,
        ("SKU-1", PALLET_B): 0,
        ("LOT-1", PALLET_B): 0,
    }
    with stocked.read() as conn:
        serials = conn.execute(
            sa.text(
                "SELECT s.serial_number FROM serial s JOIN item i ON i.id = s.item_id "
                "WHERE i.sku = 'SER-1' ORDER BY s.serial_number"
            )
        ).scalars()
        assert tuple(serials) == SERIALS
        expiry = conn.execute(
            sa.text("SELECT expiry_date FROM lot WHERE lot_code = 'L2611A'")
        ).scalar_one()
        assert str(expiry)[:10] == "2028-01-31"
        assert verify(conn).ok
    second = client.post(
        API + "/receipts", json={"site": "WH1", "sscc": PALLET_B}, headers=auth(world["receiver"])
    )
    assert second.status_code == 201, second.text
    done = client.get(f"{API}/asns/{asn_id}", headers=auth(world["buyer"])).json()
    assert done["status"] == "received" and all(p["received"] for p in done["pallets"])
    assert second.json()["purchase_order_status"] == "received"
    po = client.get(f"{API}/purchase-orders/{world['po']['id']}", headers=auth(world["buyer"]))
    assert [ln["quantity_received"] for ln in po.json()["lines"]] == [120, 50, 3]


def test_a_pallet_received_twice_is_a_conflict_and_posts_nothing(
    client: TestClient, stocked: Database, world: dict[str, Any]
) -> None:
    _send_x12(client, world["edi"], two_pallets())
    h = auth(world["receiver"])
    first = client.post(API + "/receipts", json={"site": "WH1", "sscc": PALLET_A}, headers=h)
    assert first.status_code == 201, first.text
    before = row_counts(stocked)
    again = client.post(API + "/receipts", json={"site": "WH1", "sscc": "00" + PALLET_A}, headers=h)
    assert_problem(again, 409, "sscc")
    assert row_counts(stocked) == before


def test_an_unknown_sscc_is_not_found_and_a_bad_check_digit_is_refused(
    client: TestClient, stocked: Database, world: dict[str, Any]
) -> None:
    _send_x12(client, world["edi"], two_pallets())
    h = auth(world["receiver"])
    before = row_counts(stocked)
    unknown = client.post(API + "/receipts", json={"site": "WH1", "sscc": sscc(999)}, headers=h)
    assert_problem(unknown, 404, "sscc")
    bad = PALLET_A[:-1] + str((int(PALLET_A[-1]) + 1) % 10)
    refused = client.post(API + "/receipts", json={"site": "WH1", "sscc": bad}, headers=h)
    assert_problem(refused, 422, "sscc")
    assert row_counts(stocked) == before


def test_an_asn_with_a_bad_sscc_check_digit_is_refused_naming_the_segment_or_field(
    client: TestClient, stocked: Database, world: dict[str, Any]
) -> None:
    bad = PALLET_A[:-1] + str((int(PALLET_A[-1]) + 1) % 10)
    text = x12_856("ASN-9", "PO-1001", [(bad, [Item(1, "SKU-1", 10)])])
    problem = assert_problem(_send_x12(client, world["edi"], text), 422, "MAN02")
    assert problem["segment_id"] == "MAN"
    body = {
        "number": "ASN-9",
        "lines": [{"purchase_order": "PO-1001", "sku": "SKU-1", "quantity": 10, "sscc": bad}],
    }
    json_refusal = client.post(API + "/asns", json=body, headers=auth(world["buyer"]))
    assert_problem(json_refusal, 422, "lines[0].sscc")
    with stocked.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(asn)).scalar_one() == 0


def test_a_json_asn_resolves_po_ids_gtins_and_units_to_base_units(
    client: TestClient, world: dict[str, Any]
) -> None:
    body = {
        "number": "ASN-2001",
        "supplier": "S1",
        "site": "WH1",
        "expected_date": "2026-12-03",
        "lines": [
            {"purchase_order": world["po"]["id"], "gtin": GTIN, "quantity": 5, "uom": "CS",
             "sscc": sscc(201)},
            {"purchase_order": "PO-1001", "po_line": 2, "sku": "LOT-1", "quantity": 7,
             "lot": "L1", "expiry_date": "2027-06-30", "sscc": sscc(201)},
        ],
    }  # fmt: skip
    created = client.post(API + "/asns", json=body, headers=auth(world["buyer"]))
    assert created.status_code == 201, created.text
    shown = created.json()
    assert [(ln["sku"], ln["quantity"], ln["po_line"]) for ln in shown["lines"]] == [
        ("SKU-1", 60, 1),
        ("LOT-1", 7, 2),
    ]
    assert shown["source"] == "api" and shown["pallets"][0]["quantity"] == 67


def test_an_asn_beyond_the_open_quantity_and_tolerance_is_refused(
    client: TestClient, stocked: Database, world: dict[str, Any]
) -> None:
    def announce(number: str, quantity: int) -> Any:
        line = {"purchase_order": "PO-1001", "sku": "SKU-1", "quantity": quantity}
        return client.post(
            API + "/asns",
            json={"number": number, "lines": [line]},
            headers=auth(world["buyer"]),
        )

    # 120 ordered, 5 % tolerance: 126 may be announced in all.
    assert_problem(announce("ASN-A", 127), 422, "lines[0].quantity")
    assert announce("ASN-B", 100).status_code == 201
    # the first ASN's 100 units are on their way: 27 more would pass 126
    assert_problem(announce("ASN-C", 27), 422, "lines[0].quantity")
    assert announce("ASN-D", 26).status_code == 201
    assert_problem(announce("ASN-D", 1), 409, "number")


def test_a_pallet_code_is_announced_once(client: TestClient, world: dict[str, Any]) -> None:
    assert _send_x12(client, world["edi"], two_pallets()).status_code == 201
    again = _send_x12(client, world["edi"], two_pallets("ASN-1002"))
    assert_problem(again, 409, "lines[0].sscc")


def test_a_broken_interchange_names_its_segment_and_element(
    client: TestClient, world: dict[str, Any]
) -> None:
    text = two_pallets().replace("\nSE*", "\nSE*9", 1)
    problem = assert_problem(_send_x12(client, world["edi"], text), 422, "SE01")
    assert problem["segment_id"] == "SE" and problem["element"] == 1
    unknown = x12_856("ASN-5", "PO-1001", [(sscc(5), [Item(1, "NOPE", 1)])])
    refused = assert_problem(_send_x12(client, world["edi"], unknown), 422, "lines[0].sku")
    assert "HL 4" in refused["detail"]
    json_body = client.post(
        API + "/asns/x12",
        content=two_pallets().encode(),
        headers=auth(world["edi"], **{"Content-Type": "application/json"}),
    )
    assert_problem(json_body, 415)


def test_an_856_larger_than_the_body_limit_is_refused(
    client: TestClient, world: dict[str, Any]
) -> None:
    text = two_pallets() + " " * (64 * 1024)
    assert_problem(_send_x12(client, world["edi"], text), 413)


def test_a_site_out_of_scope_is_answered_as_unknown(
    client: TestClient, world: dict[str, Any]
) -> None:
    (asn_id,) = _send_x12(client, world["edi"], two_pallets()).json()["ids"]
    h = auth(world["outsider"])
    assert_problem(client.get(f"{API}/asns/{asn_id}", headers=h), 404)
    assert_problem(client.get(API + "/asns", params={"site": "WH1"}, headers=h), 422, "site")
    assert client.get(API + "/asns", headers=h).json()["items"] == []
    body = {"number": "ASN-X", "site": "WH1", "supplier": "S1",
            "lines": [{"sku": "SKU-1", "quantity": 1}]}  # fmt: skip
    assert_problem(client.post(API + "/asns", json=body, headers=h), 422, "site")
    by_po = {"number": "ASN-Y", "lines": [{"purchase_order": "PO-1001", "sku": "SKU-1",
                                           "quantity": 1}]}  # fmt: skip
    assert_problem(client.post(API + "/asns", json=by_po, headers=h), 422)


def test_a_receiver_may_read_but_not_announce_an_asn(
    client: TestClient, world: dict[str, Any]
) -> None:
    h = auth(world["receiver"])
    assert_problem(_send_x12(client, world["receiver"], two_pallets()), 403)
    assert client.get(API + "/asns", headers=h).status_code == 200


def test_asn_lines_count_their_reception_in_the_database(
    client: TestClient, stocked: Database, world: dict[str, Any]
) -> None:
    _send_x12(client, world["edi"], two_pallets())
    client.post(
        API + "/receipts", json={"site": "WH1", "sscc": PALLET_B}, headers=auth(world["receiver"])
    )
    with stocked.read() as conn:
        rows = conn.execute(
            sa.select(asn_line.c.sscc, sa.func.sum(asn_line.c.quantity_received)).group_by(
                asn_line.c.sscc
            )
        ).all()
    assert dict(rows) == {PALLET_A: 0, PALLET_B: 40}


def test_an_asn_longer_than_the_batch_limit_is_refused(
    client: TestClient, world: dict[str, Any]
) -> None:
    line = {"purchase_order": "PO-1001", "sku": "SKU-1", "quantity": 1}
    body = {"number": "ASN-L", "lines": [line] * 51}  # the test app allows 50 lines
    assert_problem(
        client.post(API + "/asns", json=body, headers=auth(world["buyer"])), 422, "lines"
    )


def test_an_856_is_held_to_the_limits_of_a_json_body(
    client: TestClient, stocked: Database, world: dict[str, Any]
) -> None:
    text = x12_856("ASN-7", "PO-1001", [(sscc(7), [Item(2, "LOT-1", 5, lot="L" * 61)])])
    refused = assert_problem(_send_x12(client, world["edi"], text), 422, "lines[0].lot")
    assert "HL 4" in refused["detail"]
    with stocked.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(asn)).scalar_one() == 0


def test_an_856_sent_twice_with_one_idempotency_key_is_stored_once(
    client: TestClient, stocked: Database, world: dict[str, Any]
) -> None:
    first = _send_x12(client, world["edi"], two_pallets(), **{"Idempotency-Key": "edi-1"})
    again = _send_x12(client, world["edi"], two_pallets(), **{"Idempotency-Key": "edi-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    with stocked.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(asn)).scalar_one() == 1


def test_the_x12_route_declares_its_text_body_in_openapi(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/asns/x12"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"text/plain"}  # application/edi-x12 is accepted too
    assert {"201", "415", "413", "422"} <= set(operation["responses"])
