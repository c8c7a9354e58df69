"""The one module that changes balances. Every change is a guarded SQL increment.

Physical balances are protected twice: by the guard in each statement and by the CHECK
constraints of the ``balance`` table (on_hand >= 0, 0 <= allocated <= on_hand). Virtual
locations are the other side of each entry and may run negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from stockpilot.ledger.keys import Delta, StockKey
from stockpilot.persistence.tables import balance

_KEY_COLUMNS = ["item_id", "location_id", "lot_id", "status", "owner_id"]


def _upsert_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(balance)
    return stmt.on_conflict_do_update(
        index_elements=_KEY_COLUMNS,
        set_={
            "quantity_on_hand": balance.c.quantity_on_hand + stmt.excluded.quantity_on_hand,
            "quantity_allocated": balance.c.quantity_allocated + stmt.excluded.quantity_allocated,
        },
    )


_UPSERTS = {d: _upsert_statement(d) for d in ("postgresql", "sqlite")}


_DECREASE = (
    sa.update(balance)
    .where(
        balance.c.item_id == sa.bindparam("k_item_id"),
        balance.c.location_id == sa.bindparam("k_location_id"),
        balance.c.lot_id == sa.bindparam("k_lot_id"),
        balance.c.status == sa.bindparam("k_status"),
        balance.c.owner_id == sa.bindparam("k_owner_id"),
        # The guard: what is left must cover what stays reserved.
        balance.c.quantity_on_hand + sa.bindparam("d_on_hand")
        >= balance.c.quantity_allocated + sa.bindparam("d_allocated"),
        balance.c.quantity_allocated + sa.bindparam("d_allocated") >= 0,
    )
    .values(
        quantity_on_hand=balance.c.quantity_on_hand + sa.bindparam("d_on_hand"),
        quantity_allocated=balance.c.quantity_allocated + sa.bindparam("d_allocated"),
    )
)


_LOCK_KEYS = sa.text(
    """
    SELECT b.id FROM balance AS b
    JOIN unnest(
        CAST(:item_ids AS bigint[]), CAST(:location_ids AS bigint[]), CAST(:lot_ids AS bigint[]),
        CAST(:statuses AS varchar[]), CAST(:owner_ids AS bigint[])
    ) AS k(item_id, location_id, lot_id, status, owner_id)
      ON b.item_id = k.item_id AND b.location_id = k.location_id AND b.lot_id = k.lot_id
     AND b.status = k.status AND b.owner_id = k.owner_id
    ORDER BY b.item_id, b.location_id, b.lot_id, b.status, b.owner_id
    FOR UPDATE OF b
    """
)


def lock_keys(conn: Connection, keys: Sequence[StockKey]) -> None:
    """PostgreSQL: lock the existing rows of ``keys`` in sorted key order before changing any.

    The keys travel as five arrays joined through ``unnest`` — one statement and an index
    look-up per key, whatever the document's size (a row-value ``IN`` list of thousands of
    keys is planned as a scan and overflows the parser's stack). SQLite needs nothing here:
    BEGIN IMMEDIATE already holds the database's write lock.
    """
    if conn.dialect.name != "postgresql" or not keys:
        return
    conn.execute(
        _LOCK_KEYS,
        {
            "item_ids": [k.item_id for k in keys],
            "location_ids": [k.location_id for k in keys],
            "lot_ids": [k.lot_id for k in keys],
            "statuses": [k.status for k in keys],
            "owner_ids": [k.owner_id for k in keys],
        },
    ).all()


def apply_deltas(
    conn: Connection, deltas: Sequence[tuple[StockKey, Delta]], virtual: dict[int, bool]
) -> list[StockKey]:
    """Add each delta to its balance row, creating rows on first receipt.

    Decreases of physical balances are guarded updates (what remains must cover what stays
    allocated); every other delta is an upsert. Returns the keys whose guard refused — the
    caller must then roll back (nothing is partially applied from its point of view).
    """
    if not deltas:
        return []
    lock_keys(conn, [k for k, _ in deltas])
    guarded = [
        (k, d)
        for k, d in deltas
        if not virtual[k.location_id] and (d.quantity_on_hand < 0 or d.quantity_allocated < 0)
    ]
    guarded_keys = {k for k, _ in guarded}
    free = [(k, d) for k, d in deltas if k not in guarded_keys]
    refused: list[StockKey] = []
    if guarded:
        params = [
            {
                "k_item_id": k.item_id,
                "k_location_id": k.location_id,
                "k_lot_id": k.lot_id,
                "k_status": k.status,
                "k_owner_id": k.owner_id,
                "d_on_hand": d.quantity_on_hand,
                "d_allocated": d.quantity_allocated,
            }
            for k, d in guarded
        ]
        if len(params) == 1:
            if conn.execute(_DECREASE, params[0]).rowcount != 1:
                refused.append(guarded[0][0])
        else:
            # A savepoint lets a refused batch be undone so the caller can diagnose the
            # shortage against the balances as they were.
            savepoint = conn.begin_nested()
            if conn.execute(_DECREASE, params).rowcount != len(params):
                savepoint.rollback()
                refused.extend(k for k, _ in guarded)
            else:
                savepoint.commit()
    if refused:
        return refused
    if free:
        rows = [
            {
                "item_id": k.item_id,
                "location_id": k.location_id,
                "lot_id": k.lot_id,
                "status": k.status,
                "owner_id": k.owner_id,
                "is_virtual": virtual[k.location_id],
                "quantity_on_hand": d.quantity_on_hand,
                "quantity_allocated": d.quantity_allocated,
            }
            for k, d in free
        ]
        conn.execute(_UPSERTS[conn.dialect.name], rows)
    return []


_INCREASE_ALLOCATED = (
    sa.update(balance)
    .where(
        balance.c.id == sa.bindparam("balance_id"),
        balance.c.quantity_on_hand - balance.c.quantity_allocated >= sa.bindparam("quantity"),
    )
    .values(quantity_allocated=balance.c.quantity_allocated + sa.bindparam("quantity"))
)

_DECREASE_ALLOCATED = (
    sa.update(balance)
    .where(
        balance.c.id == sa.bindparam("balance_id"),
        balance.c.quantity_allocated >= sa.bindparam("quantity"),
    )
    .values(quantity_allocated=balance.c.quantity_allocated - sa.bindparam("quantity"))
)


def increase_allocated(conn: Connection, grants: Sequence[tuple[int, int]]) -> bool:
    """Reserve ``quantity`` on each ``(balance_id, quantity)``; False if any guard refused."""
    return _guarded(conn, _INCREASE_ALLOCATED, grants)


def decrease_allocated(conn: Connection, releases: Sequence[tuple[int, int]]) -> bool:
    """Give back reserved units on each ``(balance_id, quantity)``; False if any guard refused."""
    return _guarded(conn, _DECREASE_ALLOCATED, releases)


def _guarded(conn: Connection, stmt: Any, pairs: Sequence[tuple[int, int]]) -> bool:
    if not pairs:
        return True
    params = [{"balance_id": b, "quantity": q} for b, q in sorted(pairs)]
    if len(params) == 1:
        return bool(conn.execute(stmt, params[0]).rowcount == 1)
    # Both drivers report the summed row count of an executemany.
    return bool(conn.execute(stmt, params).rowcount == len(params))
