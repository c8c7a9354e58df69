"""Lots and serials of a whole document in bulk: a constant number of statements for any size.

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
    item_ids = sorted({i for i, _ in keys})
    codes = sorted({c for _, c in keys})
    for start in range(0, len(item_ids), CHUNK):
        rows = conn.execute(
            sa.select(lot.c.item_id, lot.c.lot_code, lot.c.id, lot.c.expiry_date).where(
                lot.c.item_id.in_(item_ids[start : start + CHUNK]), lot.c.lot_code.in_(codes)
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
    """Register new serial numbers (refusing any that exist or repeat): three statements."""
    if not wanted:
        return {}
    seen: set[tuple[int, str]] = set()
    for item_id, number, *_rest, field in wanted:
        if (item_id, number) in seen:
            raise ValidationFailed(f"serial {number} is given twice", field=field)
        seen.add((item_id, number))
    item_ids = sorted({w[0] for w in wanted})
    numbers = sorted({w[1] for w in wanted})
    taken = conn.execute(
        sa.select(serial.c.item_id, serial.c.serial_number).where(
            serial.c.item_id.in_(item_ids), serial.c.serial_number.in_(numbers)
        )
    ).all()
    for r in taken:
        if (r.item_id, r.serial_number) in seen:
            field = next(w[6] for w in wanted if (w[0], w[1]) == (r.item_id, r.serial_number))
            raise ValidationFailed(f"serial {r.serial_number} already exists", field=field)
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
    rows = conn.execute(
        sa.select(serial.c.item_id, serial.c.serial_number, serial.c.id).where(
            serial.c.item_id.in_(item_ids), serial.c.serial_number.in_(numbers)
        )
    )
    return {
        (int(r.item_id), r.serial_number): int(r.id)
        for r in rows
        if (r.item_id, r.serial_number) in seen
    }
