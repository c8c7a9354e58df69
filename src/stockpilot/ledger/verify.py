"""Recompute every balance from the moves and every reservation from the allocations.

The ledger is right when both drifts are empty: ``quantity_on_hand`` of each stock key equals
the moves into it minus the moves out of it, and ``quantity_allocated`` equals the open part of
its allocations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.tables import allocation, balance, move
from stockpilot.valuation.verify import ValueDrift, verify_values


@dataclass(frozen=True)
class Drift:
    item_id: int
    location_id: int
    lot_id: int
    status: str
    owner_id: int
    field: str
    expected: int
    actual: int


@dataclass(frozen=True)
class VerifyReport:
    balances_checked: int
    moves_checked: int
    drifts: list[Drift]
    # Valuation: each value balance against its entries and, FIFO, its open cost layers.
    value_areas_checked: int = 0
    value_drifts: list[ValueDrift] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts and not self.value_drifts


def verify(conn: Connection) -> VerifyReport:
    key = ("item_id", "location_id", "lot_id", "status", "owner_id")
    incoming = sa.select(
        move.c.item_id,
        move.c.to_location_id.label("location_id"),
        move.c.lot_id,
        move.c.to_status.label("status"),
        move.c.owner_id,
        sa.func.sum(move.c.quantity).label("q"),
    ).group_by(
        move.c.item_id, move.c.to_location_id, move.c.lot_id, move.c.to_status, move.c.owner_id
    )
    outgoing = sa.select(
        move.c.item_id,
        move.c.from_location_id.label("location_id"),
        move.c.lot_id,
        move.c.from_status.label("status"),
        move.c.owner_id,
        (-sa.func.sum(move.c.quantity)).label("q"),
    ).group_by(
        move.c.item_id, move.c.from_location_id, move.c.lot_id, move.c.from_status, move.c.owner_id
    )
    expected: dict[tuple[Any, ...], int] = {}
    for row in conn.execute(sa.union_all(incoming, outgoing)):
        k = tuple(row[:5])
        expected[k] = expected.get(k, 0) + int(row.q)

    open_alloc = dict(
        conn.execute(
            sa.select(
                allocation.c.balance_id,
                sa.func.sum(
                    allocation.c.quantity
                    - allocation.c.quantity_posted
                    - allocation.c.quantity_released
                ),
            )
            .where(allocation.c.state == "open")
            .group_by(allocation.c.balance_id)
        ).all()
    )

    drifts: list[Drift] = []
    checked = 0
    for row in conn.execute(
        sa.select(
            balance.c.id,
            *(balance.c[c] for c in key),
            balance.c.quantity_on_hand,
            balance.c.quantity_allocated,
        )
    ):
        checked += 1
        k = (row.item_id, row.location_id, row.lot_id, row.status, row.owner_id)
        want = expected.pop(k, 0)
        if want != row.quantity_on_hand:
            drifts.append(_drift(k, "quantity_on_hand", want, row.quantity_on_hand))
        want_alloc = int(open_alloc.get(row.id, 0) or 0)
        if want_alloc != row.quantity_allocated:
            drifts.append(_drift(k, "quantity_allocated", want_alloc, row.quantity_allocated))
    for k, want in expected.items():
        if want != 0:
            drifts.append(_drift(k, "quantity_on_hand", want, 0))
    moves_checked = conn.execute(sa.select(sa.func.count()).select_from(move)).scalar_one()
    areas, value_drifts = verify_values(conn)
    return VerifyReport(
        balances_checked=checked,
        moves_checked=moves_checked,
        drifts=drifts,
        value_areas_checked=areas,
        value_drifts=value_drifts,
    )


def _drift(key: tuple[Any, ...], field: str, expected: int, actual: int) -> Drift:
    item_id, location_id, lot_id, status, owner_id = key
    return Drift(item_id, location_id, lot_id, status, owner_id, field, expected, actual)
