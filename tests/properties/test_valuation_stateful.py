"""Random receipts, issues, transfers, returns and scrap against a real database: value never
goes negative, every FIFO area's open layers hold exactly its value balance, every balance
equals its value-ledger entries, and value is conserved —

    Σ COGS + Σ scrap + remaining value + Σ price variances = Σ purchase value + Σ revaluations

(no landed cost is posted here, so that term is zero). One item per cost
method, and a lot-tracked FIFO item, over two sites joined by in-transit.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.engine import Connection

from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import ItemCreate
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import audit_log, balance, lot, move, outbox
from stockpilot.persistence.valuation_tables import (
    cost_layer,
    revaluation,
    valuation_balance,
    valuation_entry,
)
from stockpilot.shared.actor import SYSTEM
from stockpilot.valuation.money import cost_value, to_micros
from stockpilot.valuation.revaluation import RevaluationRequest, request_revaluation
from tests.support.valuation import move_out, receive_at, transfer
from tests.support.world import build_world

pytestmark = pytest.mark.slow

ITEMS = [("SKU-1", None), ("AVG-1", None), ("STD-1", None), ("LOT-1", "L1"), ("LOT-1", "L2")]
SITES = ["WH1", "WH2"]
COSTS = [Decimal(c) for c in ("0.01", "1.00", "3.333333", "5.00", "7.25", "12.999999")]
DYNAMIC_TABLES = [valuation_entry, cost_layer, valuation_balance, revaluation, move, balance,
                  lot, audit_log, outbox]  # fmt: skip

Key = tuple[str, str | None, str]  # (sku, lot, site)


class ValuationMachine(RuleBasedStateMachine):
    db: Database

    def __init__(self) -> None:
        super().__init__()
        self.db.run(lambda conn: [conn.execute(t.delete()) for t in DYNAMIC_TABLES])
        self.on_hand: dict[Key, int] = defaultdict(int)  # at A-01 of each site
        self.in_transit: dict[tuple[str, str | None], int] = defaultdict(int)  # WH1 -> WH2
        self.shipped: dict[Key, int] = defaultdict(int)
        self.purchases = 0  # micro-units
        self.revaluations = 0

    @initialize()
    def start_empty(self) -> None:
        pass

    @rule(
        which=st.sampled_from(ITEMS),
        site=st.sampled_from(SITES),
        quantity=st.integers(1, 40),
        cost=st.sampled_from(COSTS),
    )
    def receive(
        self, which: tuple[str, str | None], site: str, quantity: int, cost: Decimal
    ) -> None:
        sku, lot_code = which
        receive_at(self.db, sku, quantity, str(cost), site=site, lot=lot_code)
        self.on_hand[(sku, lot_code, site)] += quantity
        self.purchases += cost_value(cost, quantity)

    def _held(self) -> list[Key]:
        return sorted((k for k, q in self.on_hand.items() if q > 0), key=str)

    @precondition(lambda self: bool(self._held()))
    @rule(data=st.data(), to_kind=st.sampled_from(["customer", "customer", "scrap"]))
    def issue(self, data: st.DataObject, to_kind: str) -> None:
        key = data.draw(st.sampled_from(self._held()))
        quantity = data.draw(st.integers(1, self.on_hand[key]))
        sku, lot_code, site = key
        move_out(self.db, sku, quantity, to_kind, site=site, lot=lot_code)
        self.on_hand[key] -= quantity
        if to_kind == "customer":
            self.shipped[key] += quantity

    @precondition(lambda self: any(self.shipped.values()))
    @rule(data=st.data())
    def customer_return(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted((k for k, q in self.shipped.items() if q), key=str)))
        quantity = data.draw(st.integers(1, self.shipped[key]))
        sku, lot_code, site = key
        move_out(self.db, sku, quantity, site=site, lot=lot_code, reverse=True)
        self.shipped[key] -= quantity
        self.on_hand[key] += quantity

    @precondition(lambda self: any(self.on_hand[(s, lt, "WH1")] for s, lt in ITEMS if lt is None))
    @rule(data=st.data())
    def ship_to_other_site(self, data: st.DataObject) -> None:
        held = [s for s, lt in ITEMS if lt is None and self.on_hand[(s, None, "WH1")]]
        sku = data.draw(st.sampled_from(held))
        quantity = data.draw(st.integers(1, self.on_hand[(sku, None, "WH1")]))
        transfer(self.db, sku, quantity, leg="out")
        self.on_hand[(sku, None, "WH1")] -= quantity
        self.in_transit[(sku, None)] += quantity

    @precondition(lambda self: any(self.in_transit.values()))
    @rule(data=st.data())
    def arrive_at_other_site(self, data: st.DataObject) -> None:
        sku = data.draw(st.sampled_from(sorted(k[0] for k, q in self.in_transit.items() if q)))
        quantity = data.draw(st.integers(1, self.in_transit[(sku, None)]))
        transfer(self.db, sku, quantity, leg="in")
        self.in_transit[(sku, None)] -= quantity
        self.on_hand[(sku, None, "WH2")] += quantity

    @rule(
        sku=st.sampled_from(["SKU-1", "AVG-1", "STD-1", "LOT-1"]),
        site=st.sampled_from(SITES),
        cost=st.sampled_from(COSTS),
    )
    def revalue(self, sku: str, site: str, cost: Decimal) -> None:
        request = RevaluationRequest(site, sku, cost, "DAMAGE")
        body = self.db.run(lambda conn: request_revaluation(conn, SYSTEM, request, Decimal(10**9)))
        assert body["status"] == "posted"
        self.revaluations += to_micros(Decimal(body["value_change"]))

    @invariant()
    def value_is_never_negative_and_reconciles(self) -> None:
        with self.db.read() as conn:
            report = verify(conn)
            assert report.ok, (report.drifts, report.value_drifts)
            rows = conn.execute(
                sa.select(valuation_balance.c.quantity, valuation_balance.c.value)
            ).all()
            assert all(q >= 0 and v >= 0 for q, v in rows)
            remaining = sum(v for _, v in rows)
            on_hand = sum(q for q, _ in rows)
            by_kind = dict(
                conn.execute(
                    sa.select(valuation_entry.c.kind, sa.func.sum(valuation_entry.c.value))
                    .where(valuation_entry.c.kind.in_(["cogs", "scrap"]))
                    .group_by(valuation_entry.c.kind)
                ).all()
            )
            variance = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(valuation_entry.c.price_variance), 0))
            ).scalar_one()
        cogs, scrap = -int(by_kind.get("cogs") or 0), -int(by_kind.get("scrap") or 0)
        assert cogs + scrap + remaining + int(variance) == self.purchases + self.revaluations
        assert on_hand == sum(self.on_hand.values()) + sum(self.in_transit.values())


@pytest.fixture
def valuation_db(db: Database) -> Database:
    build_world(db)

    def items(conn: Connection) -> None:
        catalog.create_item(conn, SYSTEM, ItemCreate(sku="AVG-1", cost_method="average"))
        catalog.create_item(
            conn,
            SYSTEM,
            ItemCreate(sku="STD-1", cost_method="standard", standard_cost=Decimal("6.50")),
        )

    db.run(items)
    return db


def test_random_receipts_issues_transfers_and_returns_conserve_value(
    valuation_db: Database,
) -> None:
    machine = type("BoundValuationMachine", (ValuationMachine,), {"db": valuation_db})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
