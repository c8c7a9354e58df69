"""Value the moves of one document, inside ``ledger.posting.post_moves`` and its transaction.

A document of any size costs a constant number of statements, only when it changes a
valuation area: one statement reads its items' cost data with the value balances of the areas
it touches (PostgreSQL: creates the missing rows and locks them, in sorted key order), one
reads the open FIFO layers when a FIFO area gives units out, and the writes — consumed layers
(guarded), new layers, balance increments, value-ledger entries — are one executemany each on
SQLite and a single statement of unnested arrays on PostgreSQL. The move rows take their
value from here.

Backdating: the layers are consumed in posting order, whatever the effective time; the
entries carry the effective time, so value at a past date sees a backdated entry there. No
later entry is ever rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection

from stockpilot.ledger.keys import MoveLine
from stockpilot.persistence import raw
from stockpilot.shared.errors import Conflict, ValidationFailed
from stockpilot.valuation import rules
from stockpilot.valuation.money import MAX_VALUE
from stockpilot.valuation.rules import Area, ItemCosts, Slice

PHYSICAL_KINDS = frozenset({"storage", "pick", "bulk", "staging", "dock"})
# What a move between an area and a location outside valuation is, by that location's kind.
_KIND_OF_OTHER_SIDE = {
    "supplier": "receipt",
    "customer": "cogs",
    "inventory_loss": "adjustment",
    "scrap": "scrap",
    "kitting": "kitting",
}


class Place(NamedTuple):
    """Where a location sits for valuation: its site, kind and the site's company."""

    site_id: int
    kind: str
    company_id: int


AreaKey = tuple[int, int, int]  # (item_id, site_id, transit_location_id)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """What the entries of one document share (values as the driver stores them)."""

    document_type: str
    document_id: int | None
    user_id: int | None
    reason_code: str | None
    effective_at: Any
    recorded_at: Any


def area_of(place: Place, location_id: int, owner_id: int) -> tuple[int, int] | None:
    """The area ``(site_id, transit_location_id)`` stock of ``owner_id`` at a location is
    valued in, or None: consigned stock (another company's) and virtual locations other
    than in-transit carry no value of the site's company."""
    if owner_id != place.company_id:
        return None
    if place.kind in PHYSICAL_KINDS:
        return (place.site_id, 0)
    if place.kind == "in_transit":
        return (place.site_id, location_id)
    return None


def value_moves(
    conn: Connection,
    lines: Sequence[MoveLine],
    places: Mapping[int, Place],
    doc: DocumentRef,
    move_rows: Sequence[tuple[object, ...]] = (),
) -> tuple[list[int | None], bool] | None:
    """The value each line carries (None: it changed no area), every valuation write done,
    and whether the moves were inserted too: on PostgreSQL ``move_rows`` (the posting's rows,
    their last column the value to fill) go in the same statement as the valuation writes,
    one round trip for both. Returns None when no line touches a valuation area (nothing was
    read or written)."""
    ends: list[tuple[AreaKey | None, AreaKey | None]] = []
    keys: set[AreaKey] = set()
    # Per location of the document, once: its area and the company whose stock is valued there.
    where: dict[int, tuple[tuple[int, int] | None, int]] = {}
    for ln in lines:
        source, target, owner = ln.from_location_id, ln.to_location_id, ln.owner_id
        src_at = where.get(source)
        if src_at is None:
            place = places[source]
            src_at = where[source] = (area_of(place, source, place.company_id), place.company_id)
        dst_at = where.get(target)
        if dst_at is None:
            place = places[target]
            dst_at = where[target] = (area_of(place, target, place.company_id), place.company_id)
        src = src_at[0] if owner == src_at[1] else None
        dst = dst_at[0] if owner == dst_at[1] else None
        if src == dst:
            ends.append((None, None))
            continue
        s = None if src is None else (ln.item_id, src[0], src[1])
        d = None if dst is None else (ln.item_id, dst[0], dst[1])
        ends.append((s, d))
        if s is not None:
            keys.add(s)
        if d is not None:
            keys.add(d)
    if not keys:
        return None
    costs, areas = load_areas(conn, keys)
    issuing = {s for s, _ in ends if s is not None and areas[s].method == rules.FIFO}
    if issuing:
        load_layers(conn, issuing, areas)
    values: list[int | None] = []
    entries: list[tuple[object, ...]] = []
    now = doc.effective_at
    for index, (ln, (s, d)) in enumerate(zip(lines, ends, strict=True)):
        if s is None and d is None:
            values.append(None)
            continue
        line_no = ln.line_no if ln.line_no is not None else index
        other_kind = _entry_kind(places, ln, s, d)
        if s is not None:
            issued = rules.issue(areas[s], ln.lot_id, ln.quantity, now)
            carried = issued.value
            slices = issued.slices
            entries.append(_entry(s, places[ln.from_location_id].company_id, other_kind, doc,
                                  line_no, ln, -issued.quantity, -carried, 0))  # fmt: skip
        else:
            assert d is not None
            carried, unit = rules.inbound_value(
                areas[d], costs[ln.item_id], ln.quantity, ln.unit_cost
            )
            if carried > MAX_VALUE:
                raise ValidationFailed(
                    "a move may carry at most 10^12 currency units",
                    field=f"lines[{line_no}].unit_cost",
                )
            slices = [Slice(ln.quantity, carried, unit, None)]
        if d is not None:
            booked = rules.receive(areas[d], costs[ln.item_id], ln.lot_id, slices, now)
            entries.append(_entry(d, places[ln.to_location_id].company_id, other_kind, doc,
                                  line_no, ln, ln.quantity, booked.value,
                                  booked.price_variance))  # fmt: skip
        values.append(carried)
    if move_rows and conn.dialect.name == "postgresql":
        valued = [(*row[:-1], v) for row, v in zip(move_rows, values, strict=True)]
        _write(conn, areas, entries, doc, moves=valued)
        return values, True
    _write(conn, areas, entries, doc)
    return values, False


def _entry_kind(
    places: Mapping[int, Place], ln: MoveLine, s: AreaKey | None, d: AreaKey | None
) -> str:
    if s is not None and d is not None:
        return "transfer"
    other = places[ln.to_location_id if d is None else ln.from_location_id]
    return _KIND_OF_OTHER_SIDE.get(other.kind, "transfer")


def _entry(
    key: AreaKey,
    company_id: int,
    kind: str,
    doc: DocumentRef,
    line_no: int,
    ln: MoveLine,
    quantity: int,
    value: int,
    variance: int,
) -> tuple[object, ...]:
    item_id, site_id, transit = key
    return (
        item_id, site_id, transit, company_id, kind, doc.document_type, doc.document_id,
        line_no, ln.lot_id, quantity, value, variance, ln.reason_code or doc.reason_code,
        doc.effective_at, doc.recorded_at, doc.user_id,
    )  # fmt: skip


# --- reads ----------------------------------------------------------------------------------


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


_LOCK_AREAS = raw.Sql(
    "",
    "WITH locked AS (INSERT INTO valuation_balance (item_id, site_id, transit_location_id, "
    "cost_method, quantity, value) "
    "SELECT k.item_id, k.site_id, k.transit, 'fifo', 0, 0 "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS k(item_id, site_id, transit) "
    "ORDER BY k.item_id, k.site_id, k.transit "
    "ON CONFLICT (item_id, site_id, transit_location_id) "
    "DO UPDATE SET quantity = valuation_balance.quantity "
    "RETURNING item_id, site_id, transit_location_id, cost_method, quantity, value) "
    "SELECT i.id, i.cost_method, i.standard_cost, i.unit_cost, l.site_id, "
    "l.transit_location_id, l.cost_method, l.quantity, l.value "
    "FROM locked AS l JOIN item AS i ON i.id = l.item_id",
)


def load_areas(
    conn: Connection, keys: set[AreaKey]
) -> tuple[dict[int, ItemCosts], dict[AreaKey, Area]]:
    """The items' costs and the value balances of ``keys``, in one statement. PostgreSQL:
    rows created where missing and locked in sorted key order, so two documents valuing the
    same areas queue in the same order (after the stock keys, which posting locked first).
    SQLite: the writer holds the database's write lock already."""
    ordered = sorted(keys)
    if conn.dialect.name == "postgresql":
        rows = raw.fetch_all(
            conn,
            _LOCK_AREAS,
            ([k[0] for k in ordered], [k[1] for k in ordered], [k[2] for k in ordered]),
        )
    else:
        item_ids = sorted({k[0] for k in ordered})
        site_ids = sorted({k[1] for k in ordered})
        sql = raw.Sql(
            "SELECT i.id, i.cost_method, i.standard_cost, i.unit_cost, b.site_id, "
            "b.transit_location_id, b.cost_method, b.quantity, b.value FROM item AS i "
            "LEFT JOIN valuation_balance AS b ON b.item_id = i.id "
            f"AND b.site_id IN ({_marks(len(site_ids))}) WHERE i.id IN ({_marks(len(item_ids))})"
        )
        rows = raw.fetch_all(conn, sql, [*site_ids, *item_ids])
    costs: dict[int, ItemCosts] = {}
    found: dict[AreaKey, Any] = {}
    for r in rows:
        item_id = int(r[0])
        if item_id not in costs:
            method = str(r[1])
            standard = _decimal(r[2]) if method == rules.STANDARD else None
            costs[item_id] = ItemCosts(method, standard, r[3])
        if r[4] is not None:
            found[(item_id, int(r[4]), int(r[5]))] = r
    areas: dict[AreaKey, Area] = {}
    for key in ordered:
        row = found.get(key)
        itm = costs[key[0]]
        if row is None:
            areas[key] = Area(itm.method)
        else:
            areas[key] = Area.opened(str(row[6]), int(row[7]), int(row[8]), itm)
    return costs, areas


def load_layers(conn: Connection, keys: set[AreaKey], areas: Mapping[AreaKey, Area]) -> None:
    """The open layers of the FIFO areas that give units out, oldest posted first. Their
    areas' balances are locked (PostgreSQL), and every layer change holds its area's lock."""
    item_ids = sorted({k[0] for k in keys})
    site_ids = sorted({k[1] for k in keys})
    sql = raw.Sql(
        "SELECT id, item_id, site_id, transit_location_id, lot_id, quantity_remaining, "
        "value_remaining, unit_cost, received_at FROM cost_layer "
        f"WHERE item_id IN ({_marks(len(item_ids))}) AND site_id IN ({_marks(len(site_ids))}) "
        "AND quantity_remaining > 0 ORDER BY id"
    )
    for r in raw.fetch_all(conn, sql, [*item_ids, *site_ids]):
        key = (int(r[1]), int(r[2]), int(r[3]))
        if key not in keys:
            continue
        layer = rules.Layer(int(r[0]), int(r[4]), int(r[5]), int(r[6]), _decimal(r[7]), r[8])
        areas[key].layers.setdefault(layer.lot_id, []).append(layer)


def _cost(unit_cost: object) -> Decimal | None:
    """A unit cost as stored (a driver value or a Decimal) to six places."""
    found = _decimal(unit_cost)
    return None if found is None else found.quantize(_SIX)


_SIX = Decimal("0.000001")

# --- writes ---------------------------------------------------------------------------------

_CONSUME = raw.Sql(
    "UPDATE cost_layer SET quantity_remaining = quantity_remaining - ?, "
    "value_remaining = value_remaining - ? "
    "WHERE id = ? AND quantity_remaining >= ? AND value_remaining >= ?"
)
_NEW_LAYER = raw.Sql(
    "INSERT INTO cost_layer (item_id, site_id, transit_location_id, lot_id, quantity_received, "
    "quantity_remaining, value_received, value_remaining, unit_cost, received_at, "
    "document_type, document_id, line_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Increments of existing rows (the CHECK backs them: value and quantity never go negative);
# an area's first receipt inserts its row (SQLite: PostgreSQL created every row up front).
_BALANCE = raw.Sql(
    "UPDATE valuation_balance SET quantity = quantity + ?, value = value + ?, cost_method = ? "
    "WHERE item_id = ? AND site_id = ? AND transit_location_id = ?"
)
_NEW_BALANCE = raw.Sql(
    "INSERT INTO valuation_balance (item_id, site_id, transit_location_id, cost_method, "
    "quantity, value) VALUES (?, ?, ?, ?, ?, ?)"
)
_ENTRY = raw.Sql(
    "INSERT INTO valuation_entry (item_id, site_id, transit_location_id, company_id, kind, "
    "document_type, document_id, line_no, lot_id, quantity, value, price_variance, "
    "reason_code, effective_at, recorded_at, user_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def write_area(
    conn: Connection, key: AreaKey, area: Area, entry: tuple[object, ...], doc: DocumentRef
) -> None:
    """Write one area's change and its one entry (a revaluation), as a posting would."""
    _write(conn, {key: area}, [entry], doc)


def write_areas(
    conn: Connection,
    areas: Mapping[AreaKey, Area],
    entries: list[tuple[object, ...]],
    doc: DocumentRef,
) -> None:
    """Write the areas' changes and their entries (a landed cost), as a posting would."""
    _write(conn, areas, entries, doc)


def _write(
    conn: Connection,
    areas: Mapping[AreaKey, Area],
    entries: list[tuple[object, ...]],
    doc: DocumentRef,
    *,
    moves: list[tuple[object, ...]] | None = None,
) -> None:
    money = raw.money_converter(conn)
    consumed: list[tuple[object, ...]] = []
    created: list[tuple[object, ...]] = []
    balances: list[tuple[object, ...]] = []
    new_balances: list[tuple[object, ...]] = []
    for key, area in areas.items():
        item_id, site_id, transit = key
        for lots in area.layers.values():
            for ly in lots:
                if ly.id is not None and ly.taken:
                    consumed.append((ly.taken, ly.taken_value, ly.id, ly.taken, ly.taken_value))
        for ly in area.new_layers:
            created.append(
                (item_id, site_id, transit, ly.lot_id, ly.quantity_received, ly.quantity,
                 ly.value_received, ly.value, money(_cost(ly.unit_cost)), ly.received_at,
                 doc.document_type, doc.document_id, None)
            )  # fmt: skip
        if area.stored:
            if area.d_quantity or area.d_value:
                balances.append(
                    (area.d_quantity, area.d_value, area.method, item_id, site_id, transit)
                )
        elif area.d_quantity or area.d_value:
            new_balances.append(
                (item_id, site_id, transit, area.method, area.d_quantity, area.d_value)
            )
    if conn.dialect.name == "postgresql":
        # Every area's row exists (created when it was locked): one statement writes it all.
        assert not new_balances
        _write_postgresql(conn, consumed, created, balances, entries, moves)
        return
    if consumed:
        done = (
            raw.execute(conn, _CONSUME, consumed[0])
            if len(consumed) == 1
            else raw.execute_many(conn, _CONSUME, consumed)
        )
        if done != len(consumed):  # cannot happen under the area locks: refuse, never double
            raise Conflict("cost layers changed while being consumed; retry", field="lines")
    if created:
        raw.execute_many(conn, _NEW_LAYER, created)
    if balances:
        if len(balances) == 1:
            raw.execute(conn, _BALANCE, balances[0])
        else:
            raw.execute_many(conn, _BALANCE, balances)
    if new_balances:
        raw.execute_many(conn, _NEW_BALANCE, new_balances)
    if entries:
        raw.execute_many(conn, _ENTRY, entries)


# PostgreSQL: the consumed layers (guarded), the new layers, the balance increments and the
# entries of a document in one statement of unnested arrays — one round trip for any size
# (an executemany is still a statement per row on the server).
_WRITE_PG = raw.Sql(
    "",
    "WITH consumed AS (UPDATE cost_layer AS l SET "
    "quantity_remaining = l.quantity_remaining - u.q, value_remaining = l.value_remaining - u.v "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS u(q, v, id) "
    "WHERE l.id = u.id AND l.quantity_remaining >= u.q AND l.value_remaining >= u.v "
    "RETURNING l.id), "
    "created AS (INSERT INTO cost_layer (item_id, site_id, transit_location_id, lot_id, "
    "quantity_received, quantity_remaining, value_received, value_remaining, unit_cost, "
    "received_at, document_type, document_id, line_no) "
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
    "%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::numeric[], %s::timestamp[], "
    "%s::varchar[], %s::bigint[], %s::integer[])), "
    "balances AS (UPDATE valuation_balance AS b SET quantity = b.quantity + u.q, "
    "value = b.value + u.v, cost_method = u.m "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::bigint[], %s::bigint[], "
    "%s::bigint[]) AS u(q, v, m, item_id, site_id, transit) "
    "WHERE b.item_id = u.item_id AND b.site_id = u.site_id "
    "AND b.transit_location_id = u.transit), "
    "entries AS (INSERT INTO valuation_entry (item_id, site_id, transit_location_id, "
    "company_id, kind, document_type, document_id, line_no, lot_id, quantity, value, "
    "price_variance, reason_code, effective_at, recorded_at, user_id) "
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
    "%s::varchar[], %s::varchar[], %s::bigint[], %s::integer[], %s::bigint[], %s::bigint[], "
    "%s::bigint[], %s::bigint[], %s::varchar[], %s::timestamp[], %s::timestamp[], "
    "%s::bigint[])) "
    "SELECT count(*) FROM consumed",
)


# The same writes with the document's moves as the statement's own insert (one round trip for
# the posting's moves and their valuation).
_WRITE_PG_WITH_MOVES = raw.Sql(
    "",
    _WRITE_PG.postgresql.rsplit(" SELECT count(*) FROM consumed", 1)[0]
    + " INSERT INTO move (document_type, document_id, line_no, item_id, from_location_id, "
    "to_location_id, lot_id, from_status, to_status, owner_id, quantity, uom, "
    "quantity_entered, unit_cost, serial_id, reason_code, effective_at, recorded_at, user_id, "
    "value) SELECT * FROM unnest(%s::varchar[], %s::bigint[], %s::integer[], %s::bigint[], "
    "%s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::bigint[], "
    "%s::bigint[], %s::varchar[], %s::varchar[], %s::numeric[], %s::bigint[], %s::varchar[], "
    "%s::timestamp[], %s::timestamp[], %s::bigint[], %s::bigint[]) "
    "RETURNING (SELECT count(*) FROM consumed)",
)


def _columns(rows: list[tuple[object, ...]], width: int) -> list[list[object]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _write_postgresql(
    conn: Connection,
    consumed: list[tuple[object, ...]],
    created: list[tuple[object, ...]],
    balances: list[tuple[object, ...]],
    entries: list[tuple[object, ...]],
    moves: list[tuple[object, ...]] | None = None,
) -> None:
    params = [
        *_columns([c[:3] for c in consumed], 3),
        *_columns(created, 13),
        *_columns(balances, 6),
        *_columns(entries, 16),
    ]
    if moves is not None:
        params.extend(_columns(moves, 20))
    rows = raw.fetch_all(conn, _WRITE_PG if moves is None else _WRITE_PG_WITH_MOVES, params)
    if int(rows[0][0]) != len(consumed):  # cannot happen under the area locks: never double
        raise Conflict("cost layers changed while being consumed; retry", field="lines")
