"""The one module that changes balances. Every change is a guarded SQL increment.

Physical balances are protected twice: by the guard in each statement and by the CHECK
constraints of the ``balance`` table (on_hand >= 0, 0 <= allocated <= on_hand). Virtual
locations are the other side of each entry and may run negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger.keys import Key
from stockpilot.persistence import raw
from stockpilot.persistence.tables import balance
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import MAX_BALANCE

_UPSERT = raw.Sql(
    "INSERT INTO balance (item_id, location_id, lot_id, status, owner_id, is_virtual, "
    "quantity_on_hand, quantity_allocated) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (item_id, location_id, lot_id, status, owner_id) DO UPDATE SET "
    "quantity_on_hand = balance.quantity_on_hand + excluded.quantity_on_hand, "
    "quantity_allocated = balance.quantity_allocated + excluded.quantity_allocated"
)

# The guard: what is left must cover what stays reserved. CHECK constraints back it.
_DECREASE = raw.Sql(
    "UPDATE balance SET quantity_on_hand = quantity_on_hand + ?, "
    "quantity_allocated = quantity_allocated + ? "
    "WHERE item_id = ? AND location_id = ? AND lot_id = ? AND status = ? AND owner_id = ? "
    "AND quantity_on_hand + ? >= quantity_allocated + ? AND quantity_allocated + ? >= 0"
)

# PostgreSQL: create the missing rows and lock every key of the document, in sorted key order,
# in one statement — so two documents touching the same keys always queue in the same order,
# including keys that do not exist yet (rows created later by the upsert would be locked out
# of order and could deadlock).
_ENSURE_AND_LOCK = raw.Sql(
    "",
    "INSERT INTO balance (item_id, location_id, lot_id, status, owner_id, is_virtual, "
    "quantity_on_hand, quantity_allocated) "
    "SELECT k.item_id, k.location_id, k.lot_id, k.status, k.owner_id, k.is_virtual, 0, 0 "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], %s::bigint[], "
    "%s::boolean[]) AS k(item_id, location_id, lot_id, status, owner_id, is_virtual) "
    "ORDER BY k.item_id, k.location_id, k.lot_id, k.status, k.owner_id "
    "ON CONFLICT (item_id, location_id, lot_id, status, owner_id) "
    "DO UPDATE SET quantity_on_hand = balance.quantity_on_hand",
)


def lock_keys(conn: Connection, ordered: Sequence[Key], virtual: Mapping[int, bool]) -> None:
    """PostgreSQL: make sure a row exists for each key and lock them all in key order
    (``ordered`` is sorted by the caller).

    SQLite needs nothing here: BEGIN IMMEDIATE already holds the database's write lock.
    """
    if conn.dialect.name != "postgresql" or not ordered:
        return
    raw.execute(
        conn,
        _ENSURE_AND_LOCK,
        (
            [k[0] for k in ordered],
            [k[1] for k in ordered],
            [k[2] for k in ordered],
            [k[3] for k in ordered],
            [k[4] for k in ordered],
            [virtual[k[1]] for k in ordered],
        ),
    )


_SAVEPOINT = raw.Sql("SAVEPOINT balance_guard")
_ROLLBACK_TO = raw.Sql("ROLLBACK TO SAVEPOINT balance_guard")
_RELEASE = raw.Sql("RELEASE SAVEPOINT balance_guard")


def apply_deltas(
    conn: Connection,
    on_hand: dict[Key, int],
    allocated: dict[Key, int],
    virtual: Mapping[int, bool],
) -> list[Key]:
    """Add each key's net change (Δ on hand, Δ allocated) to its balance row, creating rows on
    first receipt. Keys with no net change are skipped.

    Decreases of physical balances are one guarded update for all keys (what remains must
    cover what stays allocated); every other change is one upsert. On PostgreSQL the rows are
    locked, and changed, in sorted key order so that two documents always queue the same way;
    on SQLite the database's write lock already orders writers and the document's own order
    is kept. Returns the keys whose guard refused — the caller must then roll back; the
    guarded statement itself has been undone (savepoint) so the refusal can be diagnosed
    against the balances as they were.
    """
    # Every key of ``allocated`` is a source key, so it is in ``on_hand`` too.
    items: Iterable[tuple[Key, int]] = on_hand.items()
    if conn.dialect.name == "postgresql":
        items = sorted(items)  # keys are unique: the sort never compares the numbers
        lock_keys(conn, [key for key, _ in items], virtual)
    guarded: list[tuple[object, ...]] = []
    free: list[tuple[object, ...]] = []
    reserved = allocated.get
    for key, d_on_hand in items:  # once per key of every document: plain tuples, no objects
        item_id, location_id, lot_id, status, owner_id = key
        d_allocated = reserved(key, 0) if allocated else 0
        is_virtual = virtual[location_id]
        if (d_on_hand < 0 or d_allocated < 0) and not is_virtual:
            guarded.append((d_on_hand, d_allocated, *key, d_on_hand, d_allocated, d_allocated))
        elif d_on_hand or d_allocated:
            free.append(
                (item_id, location_id, lot_id, status, owner_id, is_virtual, d_on_hand, d_allocated)
            )
    if len(guarded) == 1:
        if raw.execute(conn, _DECREASE, guarded[0]) != 1:
            return _keys_of(guarded)
    elif guarded:
        raw.execute(conn, _SAVEPOINT)
        if raw.execute_many(conn, _DECREASE, guarded) != len(guarded):
            raw.execute(conn, _ROLLBACK_TO)
            return _keys_of(guarded)
        raw.execute(conn, _RELEASE)
    if free:
        try:
            raw.execute_many(conn, _UPSERT, free)
        except conn.dialect.loaded_dbapi.IntegrityError as exc:
            if "balance_in_range" not in str(exc):
                raise
            raise ValidationFailed(
                f"a balance would leave the range of ±{MAX_BALANCE} base units", field="lines"
            ) from None
    return []


def _keys_of(guarded: list[tuple[object, ...]]) -> list[Key]:
    return [g[2:7] for g in guarded]  # type: ignore[misc]


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
    summed: dict[int, int] = {}
    for b, q in pairs:
        summed[b] = summed.get(b, 0) + q
    ordered = sorted(summed.items())
    if len(ordered) > 1 and conn.dialect.name == "postgresql":
        # One statement for the lot: the rows locked in id order first (the CTE), then
        # changed from one unnest of arrays — not a statement per row on the server.
        sql = _INCREASE_MANY_PG if stmt is _INCREASE_ALLOCATED else _DECREASE_MANY_PG
        ids = [b for b, _ in ordered]
        changed = raw.execute(conn, sql, (ids, ids, [q for _, q in ordered]))
        return changed == len(ordered)
    params = [{"balance_id": b, "quantity": q} for b, q in ordered]
    if len(params) == 1:
        return bool(conn.execute(stmt, params[0]).rowcount == 1)
    # Both drivers report the summed row count of an executemany.
    return bool(conn.execute(stmt, params).rowcount == len(params))


_LOCKED_PG = (
    "WITH locked AS (SELECT id FROM balance WHERE id = ANY(%s) ORDER BY id FOR UPDATE) "
    "UPDATE balance AS b SET quantity_allocated = b.quantity_allocated {sign} v.q "
    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, q) "
    "WHERE b.id = v.id AND b.id IN (SELECT id FROM locked) AND {guard}"
)
_INCREASE_MANY_PG = raw.Sql(
    "",
    _LOCKED_PG.format(sign="+", guard="b.quantity_on_hand - b.quantity_allocated >= v.q"),
)
_DECREASE_MANY_PG = raw.Sql("", _LOCKED_PG.format(sign="-", guard="b.quantity_allocated >= v.q"))
