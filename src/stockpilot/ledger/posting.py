"""Post documents to the ledger: moves appended, balances incremented, in one transaction.

A document of any size costs a constant number of SQL statements: one read of location flags
(cached), one executemany upsert of balances in sorted key order, one executemany insert of
moves, plus the serial updates of serial-tracked lines. All lines post or none do; a refusal
names the first line that could not be supplied.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger import balances
from stockpilot.ledger.keys import Key, MoveLine, PostingContext, StockKey
from stockpilot.persistence import journal, raw
from stockpilot.persistence.tables import balance, item, location, serial, site
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import InsufficientStock, Shortage, ValidationFailed
from stockpilot.shared.fields import MAX_BALANCE, MAX_QUANTITY, iso_utc
from stockpilot.valuation.posting import DocumentRef, Place, value_moves


class LocationFlags:
    """Process-wide cache of ``location.id -> is_virtual`` per engine, and of where each
    location sits for valuation (site, kind, the site's company): a location never changes
    kind or site, a site never changes company, and locations are never deleted."""

    def __init__(self) -> None:
        self._by_engine: dict[int, dict[int, bool]] = {}
        self._places: dict[int, dict[int, Place]] = {}
        self._lock = threading.Lock()

    def resolve(self, conn: Connection, ids: set[int]) -> Mapping[int, bool]:
        """The flags of (at least) ``ids``: the engine's whole cache, read-only."""
        flags = self._by_engine.setdefault(id(conn.engine), {})
        missing = ids - flags.keys()
        if missing:
            rows = conn.execute(
                sa.select(
                    location.c.id,
                    location.c.is_virtual,
                    location.c.site_id,
                    location.c.kind,
                    site.c.company_id,
                )
                .join(site, site.c.id == location.c.site_id)
                .where(location.c.id.in_(missing))
            ).all()
            found = {r.id: bool(r.is_virtual) for r in rows}
            unknown = missing - found.keys()
            if unknown:
                raise ValidationFailed(f"unknown location id {min(unknown)}", field="location_id")
            with self._lock:
                self._places.setdefault(id(conn.engine), {}).update(
                    {r.id: Place(r.site_id, r.kind, r.company_id) for r in rows}
                )
                flags.update(found)
        return flags

    def places(self, conn: Connection) -> Mapping[int, Place]:
        """Where each location resolved so far sits (call ``resolve`` first)."""
        return self._places.get(id(conn.engine), {})

    def site_of(self, conn: Connection, location_id: int) -> int:
        """The site of a location already resolved through ``resolve``."""
        return self._places[id(conn.engine)][location_id].site_id

    def clear(self) -> None:
        with self._lock:
            self._by_engine.clear()
            self._places.clear()


LOCATION_FLAGS = LocationFlags()

MOVED_TOPIC = "stock.moved"
"""The event of every posted document (one per ``post_moves`` call, whatever posts it)."""

_INSERT_MOVE = raw.Sql(
    "INSERT INTO move (document_type, document_id, line_no, item_id, from_location_id, "
    "to_location_id, lot_id, from_status, to_status, owner_id, quantity, uom, quantity_entered, "
    "unit_cost, serial_id, reason_code, effective_at, recorded_at, user_id, value) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def post_moves(conn: Connection, lines: Sequence[MoveLine], ctx: PostingContext) -> list[Key]:
    """Append ``lines`` as moves and apply their balance changes. Returns the keys touched."""
    if not lines:
        raise ValidationFailed("a document needs at least one line", field="lines")
    now = raw.timestamp(conn, utcnow())
    effective_at = raw.timestamp(conn, ctx.effective_at) if ctx.effective_at else now
    money = raw.money_converter(conn)
    doc_type, doc_id, user_id, reason = (
        ctx.document_type,
        ctx.document_id,
        ctx.user_id,
        ctx.reason_code,
    )
    # One pass checks each line, builds its move row and nets its balance changes per key.
    rows: list[tuple[object, ...]] = []
    append = rows.append
    on_hand: dict[Key, int] = {}
    allocated: dict[Key, int] = {}
    net = on_hand.get
    serials: list[MoveLine] = []
    for index, ln in enumerate(lines):
        item_id, quantity, lot_id, owner_id = ln.item_id, ln.quantity, ln.lot_id, ln.owner_id
        source_id, target_id = ln.from_location_id, ln.to_location_id
        from_status, to_status = ln.from_status, ln.to_status
        if not 0 < quantity <= MAX_QUANTITY:
            raise ValidationFailed(
                f"quantity must be between 1 and {MAX_QUANTITY} base units",
                field=f"lines[{_line_ref(ln, index)}].quantity",
            )
        if source_id == target_id and from_status == to_status:
            raise ValidationFailed(
                "a move must change location or status",
                field=f"lines[{_line_ref(ln, index)}].to_location",
            )
        source = (item_id, source_id, lot_id, from_status, owner_id)
        target = (item_id, target_id, lot_id, to_status, owner_id)
        on_hand[source] = net(source, 0) - quantity
        on_hand[target] = net(target, 0) + quantity
        if ln.consumes_allocated:
            allocated[source] = allocated.get(source, 0) - ln.consumes_allocated
        if ln.serial_id is not None:
            serials.append(ln)
        cost = ln.unit_cost
        append(
            (
                doc_type,
                doc_id,
                ln.line_no,
                item_id,
                source_id,
                target_id,
                lot_id,
                from_status,
                to_status,
                owner_id,
                quantity,
                ln.uom,
                ln.quantity_entered,
                None if cost is None else money(cost),
                ln.serial_id,
                ln.reason_code or reason,
                effective_at,
                now,
                user_id,
                None,
            )
        )
    if len(lines) * MAX_QUANTITY > MAX_BALANCE:
        _check_net_range(on_hand)
    virtual = LOCATION_FLAGS.resolve(conn, {key[1] for key in on_hand})
    if balances.apply_deltas(conn, on_hand, allocated, virtual):
        # Nothing is half-written: the caller's transaction rolls back on this exception.
        raise InsufficientStock(_diagnose(conn, lines, virtual))
    # The value each move carries, with the layers, value balances and value-ledger entries
    # it changes: in this transaction, a constant number of statements (stockpilot.valuation).
    # On PostgreSQL the moves go in the same statement as the valuation writes.
    valued = value_moves(
        conn,
        lines,
        LOCATION_FLAGS.places(conn),
        DocumentRef(doc_type, doc_id, user_id, reason, effective_at, now),
        rows,
    )
    if valued is None:
        raw.execute_many(conn, _INSERT_MOVE, rows)
    elif not valued[1]:
        values = valued[0]
        rows = [(*row[:-1], value) for row, value in zip(rows, values, strict=True)]
        raw.execute_many(conn, _INSERT_MOVE, rows)
    if serials:
        _move_serials(conn, serials, virtual)
    _publish_moved(conn, lines, ctx, virtual, ctx.effective_at or utcnow())
    return list(on_hand)


def _publish_moved(
    conn: Connection,
    lines: Sequence[MoveLine],
    ctx: PostingContext,
    virtual: Mapping[int, bool],
    effective_at: datetime,
) -> None:
    """The ``stock.moved`` event of a posted document, in its transaction: every move of the
    document in one event. The aggregate is the document's site (the site of its first
    physical location), so a subscriber hears one site's moves in the order they were posted."""
    first = lines[0]
    physical = first.to_location_id if virtual[first.from_location_id] else first.from_location_id
    site_id = LOCATION_FLAGS.site_of(conn, physical)
    journal.publish(
        conn,
        topic=MOVED_TOPIC,
        aggregate_type="site",
        aggregate_id=site_id,
        site_id=site_id,
        payload={
            "document_type": ctx.document_type,
            "document_id": ctx.document_id,
            "site_id": site_id,
            "user_id": ctx.user_id,
            "effective_at": iso_utc(effective_at),
            "moves": [
                {
                    "line_no": ln.line_no,
                    "item_id": ln.item_id,
                    "from_location_id": ln.from_location_id,
                    "to_location_id": ln.to_location_id,
                    "lot_id": ln.lot_id or None,
                    "from_status": ln.from_status,
                    "to_status": ln.to_status,
                    "owner_id": ln.owner_id,
                    "quantity": ln.quantity,
                    "reason_code": ln.reason_code or ctx.reason_code,
                }
                for ln in lines
            ],
        },
    )


def _check_net_range(on_hand: Mapping[Key, int]) -> None:
    """A document changes no key by more than ``MAX_BALANCE``: with the balance CHECK that
    keeps every sum inside the 64-bit range (only documents of over 1,000 lines can reach it)."""
    if max(on_hand.values()) > MAX_BALANCE or min(on_hand.values()) < -MAX_BALANCE:
        raise ValidationFailed(
            f"the document moves more than {MAX_BALANCE} base units of one stock key",
            field="lines",
        )


def _line_ref(line: MoveLine, index: int) -> int:
    return line.line_no if line.line_no is not None else index


_MOVE_SERIAL = (
    sa.update(serial)
    .where(
        serial.c.id == sa.bindparam("serial_id"),
        serial.c.location_id == sa.bindparam("source"),
        serial.c.status == sa.bindparam("from_status"),
    )
    .values(
        location_id=sa.bindparam("target"),
        status=sa.bindparam("to_status"),
        in_stock=sa.bindparam("stocked"),
    )
)


def _move_serials(conn: Connection, lines: Sequence[MoveLine], virtual: Mapping[int, bool]) -> None:
    """A serial is one unit at one place: move it only from where it is (guarded), all of the
    document's serials in one executemany (both drivers report its summed row count)."""
    for line in lines:
        if line.quantity != 1:
            raise ValidationFailed(
                "a serial-numbered move carries exactly one unit", field="quantity"
            )
    params = [
        {
            "serial_id": line.serial_id,
            "source": line.from_location_id,
            "from_status": line.from_status,
            "target": line.to_location_id,
            "to_status": line.to_status,
            "stocked": not virtual[line.to_location_id],
        }
        for line in lines
    ]
    moved = conn.execute(_MOVE_SERIAL, params[0] if len(params) == 1 else params).rowcount
    if moved != len(params):
        # Nothing is half-written: the caller's transaction rolls back on this exception.
        at = dict(
            conn.execute(
                sa.select(serial.c.id, serial.c.location_id).where(
                    serial.c.id.in_([line.serial_id for line in lines])
                )
            ).all()
        )
        line = next((ln for ln in lines if at.get(ln.serial_id) != ln.to_location_id), lines[0])
        raise ValidationFailed(
            f"serial {line.serial_id} is not at location {line.from_location_id}",
            field="serial",
        )


def _diagnose(
    conn: Connection, lines: Sequence[MoveLine], virtual: Mapping[int, bool]
) -> list[Shortage]:
    """After a refused posting: which lines asked for more than their key could give."""
    need: dict[StockKey, int] = {}
    first_line: dict[StockKey, tuple[int, MoveLine]] = {}
    for index, line in enumerate(lines):
        if virtual[line.from_location_id]:
            continue
        key = line.from_key
        need[key] = need.get(key, 0) + line.quantity
        first_line.setdefault(key, (index, line))
    shortages: list[Shortage] = []
    for key, quantity in need.items():
        row = conn.execute(
            sa.select(balance.c.quantity_on_hand, balance.c.quantity_allocated).where(
                balance.c.item_id == key.item_id,
                balance.c.location_id == key.location_id,
                balance.c.lot_id == key.lot_id,
                balance.c.status == key.status,
                balance.c.owner_id == key.owner_id,
            )
        ).first()
        index, line = first_line[key]
        consumed = sum(ln.consumes_allocated for ln in lines if ln.from_key == key)
        free = 0 if row is None else row.quantity_on_hand - row.quantity_allocated + consumed
        if quantity > free:
            names = conn.execute(
                sa.select(item.c.sku).where(item.c.id == key.item_id)
            ).scalar_one_or_none()
            loc = conn.execute(
                sa.select(location.c.code).where(location.c.id == key.location_id)
            ).scalar_one_or_none()
            shortages.append(
                Shortage(
                    line=_line_ref(line, index),
                    sku=names or str(key.item_id),
                    location=loc,
                    quantity_requested=quantity,
                    quantity_available=max(free, 0),
                )
            )
    if not shortages:  # a CHECK failed for a reason other than availability
        shortages.append(Shortage(None, "?", None, 0, 0, reason="balance constraint violated"))
    return sorted(shortages, key=lambda s: s.line if s.line is not None else -1)
