"""A customer return as the warehouse handles it: authorise the RMA against what was shipped,
receive the parcel into inspection at the dock, inspect, and dispose of each line — back to
saleable stock, to repair, to scrap or back to the vendor — each a move with its reason."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stockpilot.ledger import positions
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import balance, demand_history, location, move
from stockpilot.persistence.warehouse_tables import receipt
from stockpilot.returns import service as returns
from stockpilot.returns.schemas import DispositionLine, ReturnCreate, ReturnDispose
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.shared.errors import Conflict, ValidationFailed
from tests.support.shipped import ship
from tests.support.world import build_world, receive

CLERK = Actor(user_id=911, name="rosa", role="warehouse_operator")


def _rma(db: Database, lines: list[dict[str, object]], **extra: object) -> dict:
    cmd = ReturnCreate.model_validate({"site": "WH1", "customer": "C1", "lines": lines, **extra})
    return db.run(lambda c: returns.create_return(c, CLERK, cmd))


def _held(db: Database, code: str, status: str) -> int:
    with db.read() as conn:
        found = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(balance.c.quantity_on_hand), 0))
            .join(location, location.c.id == balance.c.location_id)
            .where(location.c.code == code, balance.c.status == status)
        ).scalar_one()
    return int(found)


def test_receive_inspect_and_dispose_of_a_return_line_by_line(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-02")
    order_id = ship(db, "SKU-1", 6)

    # 1. The customer calls: 2 units unwanted (resaleable), 1 broken, 1 faulty for the vendor.
    rma = _rma(
        db,
        [
            {"sku": "SKU-1", "quantity": 2, "disposition": "saleable"},
            {"sku": "SKU-1", "quantity": 1, "disposition": "scrap"},
            {"sku": "SKU-1", "quantity": 1, "disposition": "return_to_vendor"},
        ],
        sales_order=order_id,
        reason="customer return",
    )
    assert rma["status"] == "authorised"

    # 2. The parcel arrives: received through the receiving path, into inspection at the dock.
    received = db.run(lambda c: returns.receive_return(c, CLERK, rma["id"]))
    assert (received["status"], received["location"]) == ("received", "DOCK")
    assert _held(db, "DOCK", "inspection") == 4
    with db.read() as conn:
        pos = positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")
        kind = conn.execute(sa.select(receipt.c.id).where(receipt.c.id == received["receipt"]))
        assert kind.scalar() is not None
    assert pos["quantity_available"] == 4  # inspection stock is not available

    # 3. Inspection: the saleable line goes back to A-02; the rest as authorised.
    saleable = DispositionLine(line_no=1, location="A-02")
    db.run(lambda c: returns.dispose_return(c, CLERK, rma["id"], ReturnDispose(lines=[saleable])))
    done = db.run(lambda c: returns.dispose_return(c, CLERK, rma["id"], ReturnDispose()))
    assert done["status"] == "closed"
    assert [(ln["disposed_as"], ln["reason_code"]) for ln in done["lines"]] == [
        ("saleable", "RMA-SALEABLE"),
        ("scrap", "RMA-SCRAP"),
        ("return_to_vendor", "RMA-RTV"),
    ]
    assert _held(db, "DOCK", "inspection") == 0
    assert _held(db, "A-02", "available") == 6
    assert _held(db, "@SCRAP", "damaged") == 1
    with db.read() as conn:
        assert verify(conn).ok
        # The customer location is net of the return: 6 shipped, 4 came back.
        customer_balance = conn.execute(
            sa.select(sa.func.sum(balance.c.quantity_on_hand))
            .join(location, location.c.id == balance.c.location_id)
            .where(location.c.code == "@CUSTOMER")
        ).scalar_one()
        reasons = set(
            conn.execute(
                sa.select(move.c.reason_code).where(move.c.document_type.in_(("return", "receipt")))
            ).scalars()
        )
        demand = conn.execute(
            sa.select(sa.func.count())
            .select_from(demand_history)
            .where(demand_history.c.source == "return")
        ).scalar_one()
    assert customer_balance == 2
    assert {"RETURN", "RMA-SALEABLE", "RMA-SCRAP", "RMA-RTV"} <= reasons
    assert demand == 0  # negative demand only when configured


def test_a_return_may_not_exceed_what_was_shipped_to_that_customer(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-02")
    ship(db, "SKU-1", 3)
    ship(db, "SKU-1", 2, customer="C2")
    with pytest.raises(ValidationFailed) as refused:
        _rma(db, [{"sku": "SKU-1", "quantity": 4}])
    assert refused.value.field == "lines[0].quantity"
    _rma(db, [{"sku": "SKU-1", "quantity": 2}])
    with pytest.raises(ValidationFailed):  # 3 shipped, 2 returned already
        _rma(db, [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-1", "quantity": 1}])
    with pytest.raises(ValidationFailed):  # never shipped to C1
        _rma(db, [{"sku": "SKU-2", "quantity": 1}])
    last = _rma(db, [{"sku": "SKU-1", "quantity": 1}])
    db.run(lambda c: returns.cancel_return(c, CLERK, last["id"]))
    _rma(db, [{"sku": "SKU-1", "quantity": 1}])  # a cancelled return frees its quantity


def test_returned_quantities_feed_demand_as_negative_only_when_configured(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 10, "A-02")
    ship(db, "SKU-1", 3)
    rma = _rma(db, [{"sku": "SKU-1", "quantity": 2, "disposition": "repair"}])
    db.run(lambda c: returns.receive_return(c, CLERK, rma["id"], "B-01", negative_demand=True))
    with pytest.raises(Conflict):  # received once
        db.run(lambda c: returns.receive_return(c, CLERK, rma["id"]))
    db.run(lambda c: returns.dispose_return(c, CLERK, rma["id"], ReturnDispose()))
    assert _held(db, "B-01", "damaged") == 2
    with db.read() as conn:
        demand = conn.execute(
            sa.select(demand_history.c.quantity).where(demand_history.c.source == "return")
        ).scalars()
        assert list(demand) == [-2]
        assert verify(conn).ok
