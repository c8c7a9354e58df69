"""Allocation as a pending transfer: allocate raises ``quantity_allocated`` on stock keys;
posting (a pick) moves the units and consumes the reservation; release gives it back.
Each allocation resolves exactly once (posted + released = quantity, then closed).

``choose_stock`` is the pure rule (FEFO for lot-tracked items, FIFO otherwise); the service
functions lock candidate rows in id order, call it, and apply guarded increments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger import balances
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.persistence import raw
from stockpilot.persistence.tables import allocation, balance, location, lot, stock_status
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stock key that could supply an allocation, with what ranks it."""

    balance_id: int
    item_id: int
    location_id: int
    lot_id: int
    quantity_available: int
    expiry_date: date | None
    lot_created_at: datetime | None
    walk_sequence: int | None


@dataclass(frozen=True, slots=True)
class AllocationRequest:
    item_id: int
    quantity: int
    lot_tracked: bool = False
    document_line_id: int | None = None
    line_no: int | None = None
    min_expiry_date: date | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    request_index: int
    balance_id: int
    item_id: int
    location_id: int
    lot_id: int
    quantity: int


def _fefo_key(c: Candidate) -> tuple[object, ...]:
    # Earliest expiry first; lots without expiry after those with one; then oldest lot.
    return (
        c.expiry_date is None,
        c.expiry_date or date.max,
        c.lot_created_at or datetime.max,
        c.balance_id,
    )


def _fifo_key(c: Candidate) -> tuple[object, ...]:
    # The balance row id grows with the first receipt into a key: oldest stock first.
    return (c.lot_created_at or datetime.min, c.balance_id)


def choose_stock(
    requests: Sequence[AllocationRequest], candidates: Sequence[Candidate]
) -> list[Grant]:
    """Spread each request over its item's candidates (FEFO or FIFO), never beyond availability.

    Requests are served in the order given, so callers put higher-priority demand first.
    """
    left = {c.balance_id: c.quantity_available for c in candidates}
    by_item: dict[int, list[Candidate]] = {}
    for c in candidates:
        by_item.setdefault(c.item_id, []).append(c)
    grants: list[Grant] = []
    for index, req in enumerate(requests):
        pool = by_item.get(req.item_id, [])
        if req.min_expiry_date is not None:
            pool = [
                c for c in pool if c.expiry_date is None or c.expiry_date >= req.min_expiry_date
            ]
        ordered = sorted(pool, key=_fefo_key if req.lot_tracked else _fifo_key)
        need = req.quantity
        for c in ordered:
            if need == 0:
                break
            take = min(need, left[c.balance_id])
            if take <= 0:
                continue
            left[c.balance_id] -= take
            need -= take
            grants.append(Grant(index, c.balance_id, c.item_id, c.location_id, c.lot_id, take))
    return grants


def lock_candidates(conn: Connection, site_id: int, item_ids: Sequence[int]) -> list[Candidate]:
    """Lock every allocatable key of these items at a site (PostgreSQL: FOR UPDATE, key order).

    On SQLite the write transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    stmt = (
        sa.select(
            balance.c.id,
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            (balance.c.quantity_on_hand - balance.c.quantity_allocated).label("available"),
            location.c.walk_sequence,
            lot.c.expiry_date,
            lot.c.created_at,
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .outerjoin(lot, lot.c.id == balance.c.lot_id)
        .where(
            balance.c.item_id.in_(sorted(set(item_ids))),
            location.c.site_id == site_id,
            location.c.is_virtual.is_(False),
            stock_status.c.allocatable.is_(True),
            balance.c.quantity_on_hand > balance.c.quantity_allocated,
        )
        # The same order as posting (sorted stock keys), so lockers never wait on each other
        # in a cycle.
        .order_by(
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            balance.c.status,
            balance.c.owner_id,
        )
        .with_for_update(of=balance)
    )
    return [
        Candidate(
            balance_id=r.id,
            item_id=r.item_id,
            location_id=r.location_id,
            lot_id=r.lot_id,
            quantity_available=r.available,
            expiry_date=r.expiry_date,
            lot_created_at=r.created_at,
            walk_sequence=r.walk_sequence,
        )
        for r in conn.execute(stmt)
    ]


def allocate(
    conn: Connection,
    site_id: int,
    requests: Sequence[AllocationRequest],
    *,
    document_type: str,
    document_id: int | None,
) -> list[Grant]:
    """Reserve as much of each request as the site can supply now; returns what was granted."""
    if not requests:
        return []
    candidates = lock_candidates(conn, site_id, [r.item_id for r in requests])
    grants = choose_stock(requests, candidates)
    if not grants:
        return []
    if not balances.increase_allocated(conn, [(g.balance_id, g.quantity) for g in grants]):
        # Cannot happen while the rows are locked; the CHECK constraint is the last guard.
        raise Conflict("stock changed during allocation; retry", field="lines")
    now = utcnow()
    conn.execute(
        allocation.insert(),
        [
            {
                "balance_id": g.balance_id,
                "item_id": g.item_id,
                "location_id": g.location_id,
                "lot_id": g.lot_id,
                "document_type": document_type,
                "document_id": document_id,
                "document_line_id": requests[g.request_index].document_line_id,
                "quantity": g.quantity,
                "created_at": now,
            }
            for g in grants
        ],
    )
    return grants


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
