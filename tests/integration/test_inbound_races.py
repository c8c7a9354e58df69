"""Concurrent receivers and putaway confirmations: a purchase order's tolerance holds however
many receipts race for it, a putaway task posts once however many operators confirm it, and
the ledger never drifts."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import SupplierCreate
from stockpilot.inbound import purchase_orders, receiving
from stockpilot.inbound.schemas import PurchaseOrderCreate, ReceiptCreate, ReceiptLineCreate
from stockpilot.ledger.verify import verify
from stockpilot.network import service as network
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import move
from stockpilot.persistence.warehouse_tables import purchase_order_line, task
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.shared.errors import Conflict, StockpilotError
from stockpilot.tasks import service as tasks
from tests.integration.test_races import race
from tests.support.world import build_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]

CLIENTS = 16


@pytest.fixture
def race_db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, pool_size=10, max_overflow=10)
    build_world(database)
    database.run(
        lambda conn: (
            catalog.create_supplier(conn, SYSTEM, SupplierCreate(code="S1", name="First")),
            network.create_location(conn, SYSTEM, "WH1", "DOCK-1", "dock"),
        )
    )
    yield database
    database.dispose()


def _order(db: Database, quantity: int) -> int:
    cmd = PurchaseOrderCreate.model_validate(
        {"site": "WH1", "supplier": "S1", "lines": [{"sku": "SKU-1", "quantity": quantity}]}
    )
    return db.run(
        lambda conn: purchase_orders.create_purchase_order(
            conn, SYSTEM, purchase_orders.draft_from_command(conn, SYSTEM, cmd)
        )
    )


def _receipt(order_id: int, quantity: int) -> ReceiptCreate:
    return ReceiptCreate(
        site="WH1",
        purchase_order=order_id,
        lines=[ReceiptLineCreate(sku="SKU-1", quantity=Decimal(quantity))],
    )


def test_racing_receipts_never_take_a_purchase_order_line_beyond_its_tolerance(
    race_db: Database,
) -> None:
    order_id = _order(race_db, 100)
    receiver = Actor(user_id=7, name="receiver", role="warehouse_operator")

    def receive() -> object:
        return race_db.run(
            lambda conn: receiving.receive_goods(
                conn, receiver, _receipt(order_id, 10), max_lines=50
            )
        )

    result = race([receive] * CLIENTS)
    assert all(isinstance(e, StockpilotError) for e in result.errors), result.errors
    # 5 % of 100 allows 105 in all: exactly ten receipts of 10 fit.
    assert len(result.values) == 10
    with race_db.read() as conn:
        received = conn.execute(
            sa.select(purchase_order_line.c.quantity_received).where(
                purchase_order_line.c.order_id == order_id
            )
        ).scalar_one()
        assert received == 100
        assert verify(conn).ok


def test_a_putaway_confirmed_by_many_operators_at_once_posts_once(race_db: Database) -> None:
    order_id = _order(race_db, 30)
    body = race_db.run(
        lambda conn: receiving.receive_goods(conn, SYSTEM, _receipt(order_id, 30), max_lines=50)
    )
    (task_id,) = body["putaway_tasks"]
    with race_db.read() as conn:
        moves_before = conn.execute(sa.select(sa.func.count()).select_from(move)).scalar_one()

    def confirm(n: int) -> object:
        operator = Actor(user_id=100 + n, name=f"op{n}", role="warehouse_operator")
        return race_db.run(
            lambda conn: tasks.confirm_task(conn, operator, task_id, tasks.Confirmation())
        )

    result = race([lambda n=n: confirm(n) for n in range(CLIENTS)])  # type: ignore[misc]
    assert len(result.values) == 1
    assert len(result.errors) == CLIENTS - 1
    assert all(isinstance(e, Conflict) for e in result.errors), result.errors
    with race_db.read() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(move)).scalar_one()
            == moves_before + 1
        )
        assert (
            conn.execute(sa.select(task.c.status).where(task.c.id == task_id)).scalar_one()
            == "done"
        )
        assert verify(conn).ok


def test_racing_receipts_of_the_same_item_lose_and_double_nothing(race_db: Database) -> None:
    def receive(n: int) -> object:
        cmd = ReceiptCreate(
            site="WH1",
            lines=[ReceiptLineCreate(sku="SKU-1", quantity=Decimal(1 + n % 3), location="A-01")],
        )
        return race_db.run(lambda conn: receiving.receive_goods(conn, SYSTEM, cmd, max_lines=50))

    result = race([lambda n=n: receive(n) for n in range(CLIENTS)])  # type: ignore[misc]
    assert not result.errors, result.errors
    expected = sum(1 + n % 3 for n in range(CLIENTS))
    with race_db.read() as conn:
        on_hand = conn.execute(
            sa.text(
                "SELECT SUM(quantity_on_hand) FROM balance b "
                "JOIN location l ON l.id = b.location_id WHERE l.code = 'A-01' "
                "AND l.site_id = (SELECT id FROM site WHERE code = 'WH1')"
            )
        ).scalar_one()
        assert on_hand == expected
        assert verify(conn).ok
