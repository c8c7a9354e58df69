"""Concurrent ships and receipts of the same transfers, and an intercompany transfer: no move
lost or doubled, no drift, in-transit back to zero."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from stockpilot.ledger.verify import verify
from stockpilot.network import service as network
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import balance, location, move
from stockpilot.persistence.warehouse_tables import transfer_order_line
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import ValidationFailed
from stockpilot.transfers import service
from stockpilot.transfers.schemas import TransferOrderCreate, TransferReceive
from tests.integration.test_races import _balances_sane, race, race_db  # noqa: F401
from tests.support.world import build_world, receive

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]


def _create(db: Database, quantity: int, *, to_site: str = "WH2", price: str | None = None) -> int:
    line: dict[str, Any] = {"sku": "SKU-1", "quantity": quantity}
    if price is not None:
        line["transfer_price"] = price
    cmd = TransferOrderCreate.model_validate(
        {"from_site": "WH1", "to_site": to_site, "lines": [line]}
    )
    return db.run(lambda c: service.create(c, SYSTEM, cmd))


def _ship(db: Database, order_id: int) -> object:
    return db.run(lambda c: service.ship_transfer(c, SYSTEM, order_id))


def _receive(db: Database, order_id: int) -> object:
    return db.run(
        lambda c: service.receive_transfer(c, SYSTEM, order_id, TransferReceive(), max_lines=100)
    )


def _in_transit(db: Database) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(balance.c.quantity_on_hand), 0))
                .join(location, location.c.id == balance.c.location_id)
                .where(location.c.kind == "in_transit")
            ).scalar_one()
        )


def test_racing_ships_and_receipts_of_the_same_transfers_post_each_exactly_once(
    race_db: Database,  # noqa: F811
) -> None:
    build_world(race_db)
    receive(race_db, "SKU-1", 30, "A-02")
    orders = [_create(race_db, 4) for _ in range(6)]  # 24 of the 30
    result = race([partial(_ship, race_db, o) for o in orders for _ in range(3)])
    assert all(type(e).__name__ == "Conflict" for e in result.errors), result.errors
    assert len(result.values) == 6
    assert _in_transit(race_db) == 24
    workers: list[Callable[[], Any]] = [
        partial(_receive, race_db, o) for o in orders for _ in (1, 2)
    ]
    result = race(workers)
    assert all(type(e).__name__ == "Conflict" for e in result.errors), result.errors
    assert len(result.values) == 6
    with race_db.read() as conn:
        received = conn.execute(
            sa.select(sa.func.sum(transfer_order_line.c.quantity_received))
        ).scalar_one()
        shipped_moves = conn.execute(
            sa.select(sa.func.sum(move.c.quantity)).where(move.c.document_type == "transfer_order")
        ).scalar_one()
        _balances_sane(conn)
        assert verify(conn).ok
    assert (received, shipped_moves, _in_transit(race_db)) == (24, 24, 0)


def test_an_intercompany_transfer_changes_the_owner_at_the_transfer_price(
    race_db: Database,  # noqa: F811
) -> None:
    """The branch company buys from the hub company: the hub's stock leaves its books through
    its customer location, the branch's arrives from its supplier location at the price."""
    build_world(race_db)
    race_db.run(
        lambda c: network.create_site(c, SYSTEM, "OTHER", kind="branch", owner_code="SUBSIDIARY")
    )
    race_db.run(lambda c: network.create_location(c, SYSTEM, "OTHER", "X-01", "storage"))
    receive(race_db, "SKU-1", 10, "A-02")
    order = _create(race_db, 6, to_site="OTHER", price="4.25")
    with pytest.raises(ValidationFailed) as refused:
        _create(race_db, 1, to_site="OTHER")
    assert refused.value.field == "lines[0].transfer_price"
    _ship(race_db, order)
    body = race_db.run(lambda c: service.get_transfer(c, SYSTEM, order))
    assert body["intercompany"] is True
    assert body["lines"][0]["transfer_price"] == Decimal("4.25")
    assert body["margin"]["price_value"] == "0.00"  # nothing received (paid for) yet
    received: Any = _receive(race_db, order)
    paid, cost, kept = (
        Decimal(received["margin"][k]) for k in ("price_value", "cost_value", "margin_value")
    )
    assert paid == Decimal("25.50")  # 6 received × 4.25
    assert kept == paid - cost
    with race_db.read() as conn:
        owners: dict[str, int] = dict(
            conn.execute(
                sa.text(
                    "SELECT c.code, SUM(b.quantity_on_hand) FROM balance b "
                    "JOIN location l ON l.id = b.location_id JOIN company c ON c.id = b.owner_id "
                    "WHERE l.is_virtual = :f GROUP BY c.code"
                ),
                {"f": False},
            ).all()
        )
        costs = (
            conn.execute(
                sa.select(move.c.unit_cost).where(
                    move.c.document_type == "receipt", move.c.unit_cost.is_not(None)
                )
            )
            .scalars()
            .all()
        )
        assert verify(conn).ok
    assert owners["SUBSIDIARY"] == 6
    assert [Decimal(str(c)) for c in costs] == [Decimal("4.25")]
    assert _in_transit(race_db) == 0
