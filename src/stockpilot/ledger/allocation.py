"""Allocation as a pending transfer: allocate raises ``quantity_allocated`` on stock keys;
posting (a pick) moves the units and consumes the reservation; release gives it back.
Each allocation resolves exactly once (posted + released = quantity, then closed).

Which stock an order takes is decided by the outbound allocation rules
(``outbound.allocation_rules``) and applied by ``outbound.allocation`` with guarded increments;
this module owns what happens to an allocation afterwards: post, release, resolve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger import balances
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.persistence import raw
from stockpilot.persistence.tables import allocation, balance
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class AllocationState:
    id: int
    balance_id: int
    item_id: int
    location_id: int
    lot_id: int
    status: str
    owner_id: int
    document_line_id: int | None
    quantity: int
    quantity_posted: int
    quantity_released: int
    state: str

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_posted - self.quantity_released


def load_allocations(
    conn: Connection, allocation_ids: Sequence[int], *, lock: bool = True
) -> list[AllocationState]:
    stmt = (
        sa.select(
            allocation.c.id,
            allocation.c.balance_id,
            allocation.c.item_id,
            allocation.c.location_id,
            allocation.c.lot_id,
            balance.c.status,
            balance.c.owner_id,
            allocation.c.document_line_id,
            allocation.c.quantity,
            allocation.c.quantity_posted,
            allocation.c.quantity_released,
            allocation.c.state,
        )
        .join(balance, balance.c.id == allocation.c.balance_id)
        .where(allocation.c.id.in_(sorted(set(allocation_ids))))
        .order_by(allocation.c.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=allocation)
    # Positional: the columns are selected in the fields' order (a mapping per row costs
    # more than the query for a pick list of thousands).
    rows = [AllocationState(*tuple(r)) for r in conn.execute(stmt)]
    missing = set(allocation_ids) - {r.id for r in rows}
    if missing:
        raise NotFound(f"allocation {min(missing)} not found", field="allocation_id")
    return rows


_RESOLVE = (
    sa.update(allocation)
    .where(
        allocation.c.id == sa.bindparam("allocation_id"),
        allocation.c.state == "open",
        allocation.c.quantity - allocation.c.quantity_posted - allocation.c.quantity_released
        >= sa.bindparam("posted") + sa.bindparam("released"),
    )
    .values(
        quantity_posted=allocation.c.quantity_posted + sa.bindparam("posted"),
        quantity_released=allocation.c.quantity_released + sa.bindparam("released"),
        state=sa.case(
            (
                allocation.c.quantity
                - allocation.c.quantity_posted
                - allocation.c.quantity_released
                == sa.bindparam("posted") + sa.bindparam("released"),
                "closed",
            ),
            else_="open",
        ),
        closed_at=sa.bindparam("closed_at"),
    )
)


def _resolve(conn: Connection, allocation_id: int, *, posted: int, released: int) -> None:
    result = conn.execute(
        _RESOLVE,
        {
            "allocation_id": allocation_id,
            "posted": posted,
            "released": released,
            "closed_at": utcnow(),
        },
    )
    if result.rowcount != 1:
        raise Conflict(
            f"allocation {allocation_id} is already resolved or has less open than asked",
            field="allocation_id",
        )


def release(conn: Connection, alloc: AllocationState, quantity: int | None = None) -> int:
    """Give back ``quantity`` (default: all that is open) of a reservation."""
    qty = alloc.quantity_open if quantity is None else quantity
    if qty <= 0 or qty > alloc.quantity_open:
        raise ValidationFailed(
            f"release quantity must be between 1 and {alloc.quantity_open}", field="quantity"
        )
    _resolve(conn, alloc.id, posted=0, released=qty)
    if not balances.decrease_allocated(conn, [(alloc.balance_id, qty)]):
        raise Conflict("balance allocation is lower than the allocation", field="allocation_id")
    return qty


def post(
    conn: Connection,
    alloc: AllocationState,
    quantity: int,
    to_location_id: int,
    ctx: PostingContext,
    *,
    release_remainder: bool = True,
) -> tuple[int, int]:
    """Pick ``quantity`` of a reservation into ``to_location_id``; a short pick releases the rest.

    Returns ``(posted, released)``.
    """
    if quantity < 0 or quantity > alloc.quantity_open:
        raise ValidationFailed(
            f"quantity must be between 0 and {alloc.quantity_open}", field="quantity"
        )
    released = alloc.quantity_open - quantity if release_remainder else 0
    if quantity == 0 and released == 0:
        raise ValidationFailed("nothing to post", field="quantity")
    _resolve(conn, alloc.id, posted=quantity, released=released)
    if quantity:
        post_moves(
            conn,
            [
                MoveLine(
                    item_id=alloc.item_id,
                    from_location_id=alloc.location_id,
                    to_location_id=to_location_id,
                    quantity=quantity,
                    owner_id=alloc.owner_id,
                    lot_id=alloc.lot_id,
                    from_status=alloc.status,
                    to_status=alloc.status,
                    consumes_allocated=quantity,
                )
            ],
            ctx,
        )
    if released and not balances.decrease_allocated(conn, [(alloc.balance_id, released)]):
        raise Conflict("balance allocation is lower than the allocation", field="allocation_id")
    return quantity, released


def post_many(
    conn: Connection,
    picks: Sequence[tuple[AllocationState, int, int]],
    ctx: PostingContext,
) -> tuple[int, int]:
    """Pick many reservations in one document: each ``(allocation, quantity, to_location_id)``
    posts ``quantity`` and releases the rest of what is open (a short pick). A constant number
    of statements whatever the count. Returns ``(posted, released)``."""
    if not picks:
        return 0, 0
    stamp = raw.timestamp(conn, utcnow())
    rows: list[tuple[int, int, int, object, int, int]] = []
    moves = []
    releases: dict[int, int] = {}
    for state, quantity, to_location_id in picks:
        if quantity < 0 or quantity > state.quantity_open:
            raise ValidationFailed(
                f"quantity must be between 0 and {state.quantity_open}", field="quantity"
            )
        released = state.quantity_open - quantity
        rows.append((quantity, released, quantity + released, stamp, state.id, quantity + released))
        if released:
            releases[state.balance_id] = releases.get(state.balance_id, 0) + released
        if quantity:
            moves.append(
                MoveLine(
                    item_id=state.item_id,
                    from_location_id=state.location_id,
                    to_location_id=to_location_id,
                    quantity=quantity,
                    owner_id=state.owner_id,
                    lot_id=state.lot_id,
                    from_status=state.status,
                    to_status=state.status,
                    consumes_allocated=quantity,
                )
            )
    whole = [r[4] for r in rows if r[1] == 0]  # nothing released: picked in full
    partial = [r for r in rows if r[1] != 0]
    resolved = 0
    if whole:
        # Picked in full: each posts what is open, in one statement for the lot.
        if conn.dialect.name == "postgresql":  # one array, not one parameter per id
            sql = raw.Sql(_POST_WHOLE.format(marks="").replace("IN ()", "= ANY(?)"))
            resolved += raw.execute(conn, sql, (stamp, whole))
        else:
            sql = raw.Sql(_POST_WHOLE.format(marks=", ".join("?" * len(whole))))
            resolved += raw.execute(conn, sql, (stamp, *whole))
    if partial:
        resolved += raw.execute_many(conn, _RESOLVE_MANY, partial)
    if resolved != len(rows):
        raise Conflict("an allocation is already resolved", field="allocation_id")
    if moves:
        post_moves(conn, moves, ctx)
    if not balances.decrease_allocated(conn, sorted(releases.items())):
        raise Conflict("balance allocation is lower than the allocation", field="allocation_id")
    return sum(m.quantity for m in moves), sum(releases.values())


# ``_RESOLVE`` on the driver for many rows (a pick list resolves thousands at once). The
# right-hand sides read the row as it was before the update, on both backends.
_RESOLVE_MANY = raw.Sql(
    "UPDATE allocation SET quantity_posted = quantity_posted + ?, "
    "quantity_released = quantity_released + ?, "
    "state = CASE WHEN quantity - quantity_posted - quantity_released = ? "
    "THEN 'closed' ELSE 'open' END, closed_at = ? "
    "WHERE id = ? AND state = 'open' AND quantity - quantity_posted - quantity_released >= ?"
)
_POST_WHOLE = (
    "UPDATE allocation SET quantity_posted = quantity - quantity_released, state = 'closed', "
    "closed_at = ? WHERE state = 'open' AND id IN ({marks})"
)
