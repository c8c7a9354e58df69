"""Lots and serials of a whole document in bulk: a constant number of statements per 5,000 of
them, whatever the document's size.

A lot is created on its first receipt and keeps the expiry date it was first given; a serial
number exists once per item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.tables import lot, serial
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.sql import insert_ignore

CHUNK = 5000

LotWanted = Mapping[tuple[int, str], tuple[date | None, str]]
"""``(item_id, lot_code) -> (expiry_date, field to blame)``."""


def ensure_lots(conn: Connection, wanted: LotWanted) -> dict[tuple[int, str], int]:
    """The ids of the wanted lots, creating the missing ones: one insert and one read per
    5,000 lots. A lot's expiry may not change on a later receipt."""
    if not wanted:
        return {}
    now = utcnow()
    keys = sorted(wanted)
    for start in range(0, len(keys), CHUNK):
        insert_ignore(
            conn,
            lot,
            [
                {"item_id": i, "lot_code": c, "expiry_date": wanted[(i, c)][0], "created_at": now}
                for i, c in keys[start : start + CHUNK]
            ],
        )
    found: dict[tuple[int, str], int] = {}
    for start in range(0, len(keys), CHUNK):
        part = keys[start : start + CHUNK]
        rows = conn.execute(
            sa.select(lot.c.item_id, lot.c.lot_code, lot.c.id, lot.c.expiry_date).where(
                lot.c.item_id.in_(sorted({i for i, _ in part})),
                lot.c.lot_code.in_(sorted({c for _, c in part})),
            )
        )
        for r in rows:
            key = (int(r.item_id), r.lot_code)
            if key not in wanted:
                continue
            expiry, field = wanted[key]
            if expiry is not None and r.expiry_date is not None and r.expiry_date != expiry:
                raise ValidationFailed(
                    f"lot {r.lot_code} already has expiry {r.expiry_date}",
                    field=field.replace(".lot", ".expiry_date"),
                )
            found[key] = int(r.id)
    return found


SerialWanted = tuple[int, str, int, int, str, int, str]
"""``(item_id, serial_number, lot_id, location_id, status, owner_id, field)``."""


def new_serials(conn: Connection, wanted: Sequence[SerialWanted]) -> dict[tuple[int, str], int]:
    """Register new serial numbers (refusing any that exist or repeat): three statements per
    5,000 serial numbers."""
    if not wanted:
        return {}
    seen: dict[tuple[int, str], str] = {}
    for item_id, number, *_rest, field in wanted:
        if (item_id, number) in seen:
            raise ValidationFailed(f"serial {number} is given twice", field=field)
        seen[(item_id, number)] = field
    keys = sorted(seen)
    for part in _parts(keys):
        for r in conn.execute(_serials_of(part)):
            key = (int(r.item_id), r.serial_number)
            if key in seen:
                raise ValidationFailed(f"serial {r.serial_number} already exists", field=seen[key])
    conn.execute(
        serial.insert(),
        [
            {
                "item_id": item_id,
                "serial_number": number,
                "lot_id": lot_id,
                "location_id": location_id,
                "status": status,
                "owner_id": owner_id,
                "in_stock": False,
            }
            for item_id, number, lot_id, location_id, status, owner_id, _ in wanted
        ],
    )
    found: dict[tuple[int, str], int] = {}
    for part in _parts(keys):
        for r in conn.execute(_serials_of(part)):
            key = (int(r.item_id), r.serial_number)
            if key in seen:
                found[key] = int(r.id)
    return found


def _parts(keys: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    return [keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK)]


def _serials_of(keys: list[tuple[int, str]]) -> sa.Select[tuple[int, str, int]]:
    """The serial rows that may be ``keys`` (their items × their numbers, filtered after)."""
    return sa.select(serial.c.item_id, serial.c.serial_number, serial.c.id).where(
        serial.c.item_id.in_(sorted({i for i, _ in keys})),
        serial.c.serial_number.in_(sorted({n for _, n in keys})),
    )
