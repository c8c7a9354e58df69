"""A random warehouse day against a real database: the ledger always balances.

A Hypothesis state machine receives (with lots), moves bin to bin, changes status, adjusts,
allocates sales orders, releases and picks them (short picks too), and after every step checks
the database against a pure in-memory model of on-hand and reserved units per
(sku, bin, lot, status). A refused operation must be refused exactly when the model says so,
and must leave the database byte-for-byte as it was.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.engine import Connection

from stockpilot.ledger import operations
from stockpilot.ledger.verify import verify
from stockpilot.outbound import sales_orders
from stockpilot.outbound.schemas import SalesOrderCreate
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import (
    allocation,
    audit_log,
    balance,
    demand_history,
    item,
    location,
    lot,
    move,
    outbox,
    sales_order,
    sales_order_line,
    serial,
)
from stockpilot.persistence.warehouse_tables import shipment, shipment_line
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import InsufficientStock, StockpilotError, ValidationFailed
from tests.support.world import build_world

pytestmark = pytest.mark.slow

Key = tuple[str, str, str | None, str]  # (sku, bin, lot, status)

BINS = ["A-01", "A-02", "B-01"]
STATUSES = ["available", "quarantine", "damaged"]
ALLOCATABLE = {"available"}
STOCK = [("SKU-1", None), ("LOT-1", "L1"), ("LOT-1", "L2"), ("LOT-1", "L3")]
EXPIRY = {"L1": date(2027, 1, 1), "L2": date(2028, 1, 1), "L3": None}
# Rows a step may write; deleting them gives every example the same empty warehouse.
DYNAMIC_TABLES = [
    shipment_line,  # a counter pick records its shipment
    shipment,
    demand_history,  # every order line is a demand row
    allocation,
    sales_order_line,
    sales_order,
    move,
    balance,
    serial,
    lot,
    audit_log,
    outbox,
]


def _reset(db: Database) -> None:
    def wipe(conn: Connection) -> None:
        for table in DYNAMIC_TABLES:
            conn.execute(table.delete())

    db.run(wipe)


def _snapshot(conn: Connection) -> tuple[Any, ...]:
    """Everything a refused operation must not have touched."""
    balances = conn.execute(sa.select(balance).order_by(balance.c.id)).all()
    allocations = conn.execute(sa.select(allocation).order_by(allocation.c.id)).all()
    lines = conn.execute(sa.select(sales_order_line).order_by(sales_order_line.c.id)).all()
    counts = [
        conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        for t in (move, audit_log, outbox, lot)
    ]
    return (balances, allocations, lines, counts)


def _physical(conn: Connection) -> dict[Key, tuple[int, int]]:
    """(on hand, allocated) per model key, for every physical balance that is not all zero."""
    rows = conn.execute(
        sa.select(
            item.c.sku,
            location.c.code,
            lot.c.lot_code,
            balance.c.status,
            balance.c.quantity_on_hand,
            balance.c.quantity_allocated,
        )
        .join(item, item.c.id == balance.c.item_id)
        .join(location, location.c.id == balance.c.location_id)
        .outerjoin(lot, lot.c.id == balance.c.lot_id)
        .where(
            location.c.is_virtual.is_(False),
            sa.or_(balance.c.quantity_on_hand != 0, balance.c.quantity_allocated != 0),
        )
    )
    return {(r.sku, r.code, r.lot_code, r.status): (r[4], r[5]) for r in rows}


class LedgerMachine(RuleBasedStateMachine):
    db: Database  # set by the test on a subclass

    def __init__(self) -> None:
        super().__init__()
        _reset(self.db)
        self.on_hand: defaultdict[Key, int] = defaultdict(int)
        self.reserved: defaultdict[Key, int] = defaultdict(int)
        self.lots: set[tuple[str, str]] = set()
        # order id -> {allocation id: (key, open quantity)}
        self.open_orders: dict[int, dict[int, tuple[Key, int]]] = {}

    # --- helpers ---------------------------------------------------------------------------

    def free(self, key: Key) -> int:
        return self.on_hand[key] - self.reserved[key]

    def lot_known(self, sku: str, lot_code: str | None) -> bool:
        return lot_code is None or (sku, lot_code) in self.lots

    def attempt(self, work: Any, refusal: type[StockpilotError] | None) -> bool:
        """Run ``work``; it must be refused with ``refusal`` (and write nothing) or succeed."""
        with self.db.read() as conn:
            before = _snapshot(conn)
        try:
            self.db.run(work)
        except StockpilotError as exc:
            assert refusal is not None, f"refused although the model allows it: {exc!r}"
            assert isinstance(exc, refusal), exc
            with self.db.read() as conn:
                assert _snapshot(conn) == before, "a refused operation changed the database"
            return False
        assert refusal is None, f"accepted although the model expects {refusal.__name__}"
        return True

    # --- rules -----------------------------------------------------------------------------

    @rule(
        stock=st.sampled_from(STOCK),
        bin_code=st.sampled_from(BINS),
        status=st.sampled_from(STATUSES),
        quantity=st.integers(1, 20),
    )
    def receive(
        self, stock: tuple[str, str | None], bin_code: str, status: str, quantity: int
    ) -> None:
        sku, lot_code = stock
        line = operations.StockLine(
            sku,
            quantity,
            bin_code,
            lot=lot_code,
            expiry_date=EXPIRY[lot_code] if lot_code else None,
            status=status,
        )
        assert self.attempt(lambda c: operations.receive(c, SYSTEM, "WH1", [line]), None)
        self.on_hand[(sku, bin_code, lot_code, status)] += quantity
        if lot_code:
            self.lots.add((sku, lot_code))

    @rule(
        stock=st.sampled_from(STOCK),
        bins=st.permutations(BINS),
        status=st.sampled_from(STATUSES),
        quantity=st.integers(1, 15),
    )
    def move_bin_to_bin(
        self, stock: tuple[str, str | None], bins: list[str], status: str, quantity: int
    ) -> None:
        self._relocate(stock, bins[0], bins[1], status, status, quantity)

    @rule(
        stock=st.sampled_from(STOCK),
        bin_code=st.sampled_from(BINS),
        statuses=st.permutations(STATUSES),
        quantity=st.integers(1, 15),
    )
    def change_status(
        self, stock: tuple[str, str | None], bin_code: str, statuses: list[str], quantity: int
    ) -> None:
        self._relocate(stock, bin_code, bin_code, statuses[0], statuses[1], quantity)

    def _relocate(
        self,
        stock: tuple[str, str | None],
        source: str,
        target: str,
        status: str,
        to_status: str,
        quantity: int,
    ) -> None:
        sku, lot_code = stock
        src: Key = (sku, source, lot_code, status)
        dst: Key = (sku, target, lot_code, to_status)
        refusal: type[StockpilotError] | None = None
        if not self.lot_known(sku, lot_code):
            refusal = ValidationFailed
        elif self.free(src) < quantity:
            refusal = InsufficientStock
        line = operations.StockLine(
            sku,
            quantity,
            source,
            to_location=target,
            lot=lot_code,
            status=status,
            to_status=to_status,
        )
        if self.attempt(lambda c: operations.relocate(c, SYSTEM, "WH1", [line]), refusal):
            self.on_hand[src] -= quantity
            self.on_hand[dst] += quantity

    @rule(
        stock=st.sampled_from(STOCK),
        bin_code=st.sampled_from(BINS),
        status=st.sampled_from(STATUSES),
        quantity=st.integers(-12, 12).filter(bool),
    )
    def adjust(
        self, stock: tuple[str, str | None], bin_code: str, status: str, quantity: int
    ) -> None:
        sku, lot_code = stock
        key: Key = (sku, bin_code, lot_code, status)
        refusal: type[StockpilotError] | None = None
        if not self.lot_known(sku, lot_code):
            refusal = ValidationFailed
        elif quantity < 0 and self.free(key) < -quantity:
            refusal = InsufficientStock
        line = operations.StockLine(sku, quantity, bin_code, lot=lot_code, status=status)
        work = lambda c: operations.adjust(c, SYSTEM, "WH1", [line], reason_code="COUNT")  # noqa: E731
        if self.attempt(work, refusal):
            self.on_hand[key] += quantity

    @rule(sku=st.sampled_from(["SKU-1", "LOT-1"]), quantity=st.integers(1, 15))
    def allocate_sales_order(self, sku: str, quantity: int) -> None:
        cmd = SalesOrderCreate.model_validate(
            {"site": "WH1", "customer": "C1", "lines": [{"sku": sku, "quantity": quantity}]}
        )
        order_id = self.db.run(lambda c: sales_orders.create(c, SYSTEM, cmd, 100))
        available = sum(
            self.free(k) for k in list(self.on_hand) if k[0] == sku and k[3] in ALLOCATABLE
        )
        result = self.db.run(lambda c: sales_orders.allocate_order(c, SYSTEM, order_id))
        granted = sum(r.quantity_allocated_now for r in result)
        assert granted == min(quantity, available), "oversold or refused stock that was there"
        grants = self._allocations(order_id)
        for key, qty in grants.values():
            assert key[3] in ALLOCATABLE
            self.reserved[key] += qty
        if grants:
            self.open_orders[order_id] = grants

    def _allocations(self, order_id: int) -> dict[int, tuple[Key, int]]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(
                    allocation.c.id,
                    item.c.sku,
                    location.c.code,
                    lot.c.lot_code,
                    balance.c.status,
                    allocation.c.quantity,
                )
                .join(balance, balance.c.id == allocation.c.balance_id)
                .join(item, item.c.id == allocation.c.item_id)
                .join(location, location.c.id == allocation.c.location_id)
                .outerjoin(lot, lot.c.id == allocation.c.lot_id)
                .where(allocation.c.document_id == order_id, allocation.c.state == "open")
            ).all()
        return {r.id: ((r.sku, r.code, r.lot_code, r.status), r.quantity) for r in rows}

    @precondition(lambda self: bool(self.open_orders))
    @rule(data=st.data())
    def release_sales_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.open_orders)), label="order")
        released = self.db.run(lambda c: sales_orders.release_order(c, SYSTEM, order_id))
        grants = self.open_orders.pop(order_id)
        assert released == sum(q for _, q in grants.values())
        for key, qty in grants.values():
            self.reserved[key] -= qty

    @precondition(lambda self: bool(self.open_orders))
    @rule(data=st.data())
    def pick_sales_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.open_orders)), label="order")
        grants = self.open_orders.pop(order_id)
        picks = {
            alloc_id: data.draw(st.integers(0, qty), label=f"pick {alloc_id}")
            for alloc_id, (_, qty) in grants.items()
        }
        done = self.db.run(lambda c: sales_orders.pick_order(c, SYSTEM, order_id, picks))
        assert done["quantity_posted"] == sum(picks.values())
        for alloc_id, (key, qty) in grants.items():
            self.reserved[key] -= qty
            self.on_hand[key] -= picks[alloc_id]

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def ledger_balances_and_matches_the_model(self) -> None:
        with self.db.read() as conn:
            report = verify(conn)
            assert report.ok, report.drifts
            actual = _physical(conn)
        for on_hand, allocated in actual.values():
            assert on_hand >= 0
            assert 0 <= allocated <= on_hand
        expected = {
            k: (self.on_hand[k], self.reserved[k])
            for k in set(self.on_hand) | set(self.reserved)
            if self.on_hand[k] or self.reserved[k]
        }
        assert actual == expected


@pytest.fixture
def world_db(db: Database) -> Database:
    build_world(db)
    return db


def test_random_warehouse_days_keep_the_ledger_balanced_and_equal_to_the_model(
    world_db: Database,
) -> None:
    machine = type("BoundLedgerMachine", (LedgerMachine,), {"db": world_db})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
