"""The allocation service: load a site's outstanding sales-order demand and its stock, let the
pure rules decide (outbound/allocation_rules.py), then reserve and record.

One run covers many orders at once with a constant number of statements: the orders are
locked first (id order), then the stock keys (key order, the same as posting), so two runs
never wait on each other in a cycle. What each run decides:

- rank: same-day route cut-off, then priority (the order's own, else its customer's), then
  promised date, then order age;
- lots: FEFO among allocatable stock in storage, pick and bulk bins (never the picked stock
  waiting at staging nor receipts at the dock), with the customer's minimum shelf life, a
  pick face before reserve;
- ship complete (whole order or nothing) and substitutes (allocated for customers who allow
  them, offered to the others);
- every short line records its immediate cause in ``sales_order_line.short_cause``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger import balances
from stockpilot.outbound import allocation_rules as rules
from stockpilot.outbound import bulk
from stockpilot.persistence import raw
from stockpilot.persistence.tables import (
    balance,
    customer,
    item,
    location,
    lot,
    sales_order,
    sales_order_line,
    stock_status,
)
from stockpilot.persistence.warehouse_tables import (
    item_substitute,
    pick_face,
    purchase_order,
    purchase_order_line,
    route,
    transfer_order,
    transfer_order_line,
)
from stockpilot.shared.clock import today, utcnow
from stockpilot.shared.errors import Conflict

__all__ = [
    "CLOSED_STATES",
    "STORABLE_KINDS",
    "TRANSFER_ALLOCATING_STATES",
    "AllocationRun",
    "CrossDockStock",
    "Grant",
    "LineResult",
    "allocate_orders",
    "backordered_order_ids",
    "backordered_transfer_ids",
    "cutoff_at",
    "effective_priority",
    "lock_orders",
    "lock_transfers",
    "refresh_statuses",
]

STORABLE_KINDS = ("storage", "pick", "bulk")
"""Bins whose stock may be allocated: staging holds what is already picked, the dock what is
not yet put away."""
CLOSED_STATES = ("cancelled", "closed", "shipped")


@dataclass(frozen=True)
class Grant:
    """One allocation row written by a run (``document_type``: whose order and line)."""

    order_id: int
    line_id: int
    item_id: int
    balance_id: int
    location_id: int
    lot_id: int
    quantity: int
    document_type: str = "sales_order"


@dataclass(frozen=True)
class LineResult:
    """What one line holds after a run, and what the run did to it."""

    line_id: int
    order_id: int
    line_no: int
    item_id: int
    quantity: int
    quantity_allocated: int
    quantity_picked: int
    quantity_allocated_now: int
    quantity_short: int
    short_cause: str | None
    reasons: tuple[str, ...] = ()
    substitutes_offered: tuple[tuple[int, int], ...] = ()  # (item id, quantity available)
    document_type: str = "sales_order"


@dataclass
class AllocationRun:
    grants: list[Grant] = field(default_factory=list)
    lines: list[LineResult] = field(default_factory=list)

    @property
    def quantity_allocated(self) -> int:
        return sum(g.quantity for g in self.grants)


def effective_priority(order_priority: int | None, customer_priority: int | None) -> int:
    """The order's own priority, else its customer's; the rules rank 1 (highest) … 5, so a
    customer tier below 5 ranks as 5."""
    value = order_priority if order_priority is not None else customer_priority
    return max(1, min(5, int(value if value is not None else 3)))


def cutoff_at(cutoff_time: str | None, ship_day: date | None, now_day: date) -> datetime | None:
    """The route's cut-off on the day the order ships: its promised (else requested) date, or
    today when that is already past — an overdue order leaves on today's truck."""
    if not cutoff_time:
        return None
    hours, minutes = (int(p) for p in cutoff_time.split(":"))
    day = max(ship_day or now_day, now_day)
    return datetime.combine(day, time(hours, minutes))


def _lock_rows(conn: Connection, table: sa.Table, ids: Iterable[int]) -> None:
    """Lock rows of ``table`` in id order (PostgreSQL; SQLite's writer already holds the
    lock)."""
    ordered = sorted(set(ids))
    if ordered:
        conn.execute(
            sa.select(table.c.id)
            .where(table.c.id.in_(ordered))
            .order_by(table.c.id)
            .with_for_update()
        ).all()


def lock_orders(conn: Connection, order_ids: Iterable[int]) -> None:
    """Lock the orders' rows in id order (PostgreSQL; SQLite's writer already holds the lock)."""
    _lock_rows(conn, sales_order, order_ids)


def _backordered(
    conn: Connection,
    head: sa.Table,
    line: sa.Table,
    shipped: str,
    open_rule: sa.ColumnElement[bool],
    item_ids: Sequence[int],
) -> list[int]:
    """Documents (``head`` with lines ``line``) passing ``open_rule`` that have a line of these
    items still short: its cause recorded and an outstanding quantity."""
    outstanding = line.c.quantity - line.c.quantity_allocated - line.c[shipped]
    return sorted(
        conn.execute(
            sa.select(head.c.id)
            .distinct()
            .join(line, line.c.order_id == head.c.id)
            .where(
                open_rule,
                line.c.item_id.in_(sorted(set(item_ids))),
                line.c.short_cause.is_not(None),
                outstanding > 0,
            )
        ).scalars()
    )


def backordered_order_ids(conn: Connection, site_id: int, item_ids: Sequence[int]) -> list[int]:
    """Orders at the site with a line of these items still short (its cause recorded)."""
    open_rule = sa.and_(
        sales_order.c.site_id == site_id, sales_order.c.status.not_in(CLOSED_STATES)
    )
    return _backordered(conn, sales_order, sales_order_line, "quantity_picked", open_rule, item_ids)


def _demand(conn: Connection, order_ids: Sequence[int]) -> list[Any]:
    return list(
        conn.execute(
            sa.select(
                sales_order_line.c.id,
                sales_order_line.c.order_id,
                sales_order_line.c.line_no,
                sales_order_line.c.item_id,
                sales_order_line.c.quantity,
                sales_order_line.c.quantity_allocated,
                sales_order_line.c.quantity_picked,
                sales_order_line.c.short_cause,
                sales_order.c.site_id,
                sales_order.c.customer_id,
                sales_order.c.priority.label("order_priority"),
                sales_order.c.promised_date,
                sales_order.c.requested_date,
                sales_order.c.created_at,
                sales_order.c.status,
                customer.c.priority.label("customer_priority"),
                customer.c.ship_complete,
                customer.c.min_shelf_life_days,
                customer.c.allow_substitutes,
                route.c.cutoff_time,
            )
            .join(sales_order, sales_order.c.id == sales_order_line.c.order_id)
            .join(customer, customer.c.id == sales_order.c.customer_id)
            .outerjoin(route, route.c.id == sales_order.c.route_id)
            .where(sales_order_line.c.order_id.in_(sorted(set(order_ids))))
            .order_by(sales_order_line.c.order_id, sales_order_line.c.line_no)
        )
    )


@dataclass(frozen=True)
class _TransferRow:
    """A transfer-order line as the run reads demand rows. Its ids are negated inside the run
    (sales and transfer lines share one rank and one id space there) and restored on output."""

    id: int
    order_id: int
    line_no: int
    item_id: int
    quantity: int
    quantity_allocated: int
    quantity_picked: int
    short_cause: str | None
    site_id: int
    order_priority: int | None
    promised_date: date | None
    created_at: datetime
    status: str
    customer_id: None = None
    customer_priority: None = None
    requested_date: None = None
    ship_complete: bool = False
    min_shelf_life_days: int = 0
    allow_substitutes: bool = False
    cutoff_time: None = None
    kind: str = "transfer"


TRANSFER_ALLOCATING_STATES = ("confirmed", "partially_shipped")
"""Transfer orders whose unshipped lines compete for stock at their origin."""


def _transfer_demand(conn: Connection, transfer_ids: Sequence[int]) -> list[_TransferRow]:
    if not transfer_ids:
        return []
    rows = conn.execute(
        sa.select(
            transfer_order_line.c.id,
            transfer_order_line.c.order_id,
            transfer_order_line.c.line_no,
            transfer_order_line.c.item_id,
            transfer_order_line.c.quantity,
            transfer_order_line.c.quantity_allocated,
            transfer_order_line.c.quantity_shipped,
            transfer_order_line.c.short_cause,
            transfer_order.c.from_site_id,
            transfer_order.c.priority,
            transfer_order_line.c.due_date,
            transfer_order.c.created_at,
            transfer_order.c.status,
        )
        .join(transfer_order, transfer_order.c.id == transfer_order_line.c.order_id)
        .where(transfer_order_line.c.order_id.in_(sorted(set(transfer_ids))))
        .order_by(transfer_order_line.c.order_id, transfer_order_line.c.line_no)
    )
    return [
        _TransferRow(
            id=-int(r.id),
            order_id=-int(r.order_id),
            line_no=r.line_no,
            item_id=r.item_id,
            quantity=int(r.quantity),
            quantity_allocated=int(r.quantity_allocated),
            quantity_picked=int(r.quantity_shipped),
            short_cause=r.short_cause,
            site_id=r.from_site_id,
            order_priority=r.priority,
            promised_date=r.due_date,
            created_at=r.created_at,
            status="open" if r.status in TRANSFER_ALLOCATING_STATES else "closed",
        )
        for r in rows
    ]


def lock_transfers(conn: Connection, transfer_ids: Iterable[int]) -> None:
    """Lock transfer orders in id order (PostgreSQL), as :func:`lock_orders` does orders."""
    _lock_rows(conn, transfer_order, transfer_ids)


def backordered_transfer_ids(conn: Connection, site_id: int, item_ids: Sequence[int]) -> list[int]:
    """Transfer orders shipping from the site with a line of these items still short."""
    open_rule = sa.and_(
        transfer_order.c.from_site_id == site_id,
        transfer_order.c.status.in_(TRANSFER_ALLOCATING_STATES),
    )
    return _backordered(
        conn, transfer_order, transfer_order_line, "quantity_shipped", open_rule, item_ids
    )


def _substitutes(conn: Connection, item_ids: set[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for item_id, sub in conn.execute(
        sa.select(item_substitute.c.item_id, item_substitute.c.substitute_item_id)
        .where(item_substitute.c.item_id.in_(sorted(item_ids)))
        .order_by(
            item_substitute.c.item_id, item_substitute.c.rank, item_substitute.c.substitute_item_id
        )
    ):
        out[item_id].append(sub)
    return out


@dataclass(frozen=True)
class CrossDockStock:
    """Stock a receipt has just left at a dock: ``received`` is what the receipt brought per
    (item, lot) — a cross-dock takes no more than that (other receipts' goods waiting at the
    same dock keep their putaway)."""

    location_id: int
    received: Mapping[tuple[int, int], int]

    def capped(self, slots: Sequence[rules.StockSlot]) -> list[rules.StockSlot]:
        left = dict(self.received)
        out = []
        for s in slots:
            key = (s.item_id, s.lot_id or 0)
            q = min(s.quantity_available, left.get(key, 0))
            if q > 0:
                left[key] -= q
                out.append(replace(s, quantity_available=q))
        return out


@dataclass(frozen=True)
class _Slot:
    balance_id: int
    item_id: int
    location_id: int
    lot_id: int


def _lock_stock(
    conn: Connection, site_id: int, item_ids: set[int], at: int | None = None
) -> tuple[list[rules.StockSlot], dict[int, _Slot]]:
    """Lock every allocatable key of these items in the site's storable bins (key order);
    ``at``: at that one location instead (the dock, for a cross-dock)."""
    face = (
        sa.select(pick_face.c.id)
        .where(pick_face.c.location_id == balance.c.location_id)
        .where(pick_face.c.item_id == balance.c.item_id)
        .exists()
    )
    stmt = (
        sa.select(
            balance.c.id,
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            (balance.c.quantity_on_hand - balance.c.quantity_allocated).label("available"),
            location.c.kind,
            face.label("is_face"),
            lot.c.expiry_date,
            lot.c.created_at,
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .outerjoin(lot, lot.c.id == balance.c.lot_id)
        .where(
            balance.c.item_id.in_(sorted(item_ids)),
            location.c.site_id == site_id,
            location.c.is_virtual.is_(False),
            location.c.kind.in_(STORABLE_KINDS) if at is None else location.c.id == at,
            stock_status.c.allocatable.is_(True),
            balance.c.quantity_on_hand > balance.c.quantity_allocated,
        )
        .order_by(
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            balance.c.status,
            balance.c.owner_id,
        )
        .with_for_update(of=balance)
    )
    slots: list[rules.StockSlot] = []
    keys: dict[int, _Slot] = {}
    for r in conn.execute(stmt):
        slots.append(
            rules.StockSlot(
                key=r.id,
                item_id=r.item_id,
                quantity_available=int(r.available),
                lot_id=r.lot_id or None,
                expiry_date=r.expiry_date,
                received_date=r.created_at.date() if r.created_at else None,
                location_id=r.location_id,
                pick_face=bool(r.is_face) or r.kind == "pick",
            )
        )
        keys[r.id] = _Slot(r.id, r.item_id, r.location_id, r.lot_id)
    return slots, keys


def _site_facts(conn: Connection, site_id: int, item_ids: set[int]) -> dict[int, tuple[int, int]]:
    """(on hand, on hand in allocatable statuses) per item in the site's storable bins."""
    allocatable = sa.case(
        (stock_status.c.allocatable.is_(True), balance.c.quantity_on_hand), else_=0
    )
    rows = conn.execute(
        sa.select(
            balance.c.item_id,
            sa.func.sum(balance.c.quantity_on_hand),
            sa.func.sum(allocatable),
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .where(
            balance.c.item_id.in_(sorted(item_ids)),
            location.c.site_id == site_id,
            location.c.kind.in_(STORABLE_KINDS),
        )
        .group_by(balance.c.item_id)
    )
    return {int(i): (int(h or 0), int(a or 0)) for i, h, a in rows}


def _awaited_receipts(conn: Connection, site_id: int, item_ids: set[int]) -> dict[int, date]:
    """The earliest expected date of an open purchase-order line per item at the site."""
    rows = conn.execute(
        sa.select(purchase_order_line.c.item_id, sa.func.min(purchase_order_line.c.due_date))
        .join(purchase_order, purchase_order.c.id == purchase_order_line.c.order_id)
        .where(
            purchase_order.c.site_id == site_id,
            purchase_order.c.status.in_(("confirmed", "partially_received")),
            purchase_order_line.c.item_id.in_(sorted(item_ids)),
            purchase_order_line.c.closed.is_(False),
            purchase_order_line.c.quantity_received < purchase_order_line.c.quantity,
            purchase_order_line.c.due_date.is_not(None),
        )
        .group_by(purchase_order_line.c.item_id)
    )
    return {int(i): d for i, d in rows if d is not None}


def _demand_line(row: Any, now_day: date) -> rules.DemandLine:
    if isinstance(row, _TransferRow):
        return rules.DemandLine(
            line_id=row.id,
            order_id=row.order_id,
            item_id=row.item_id,
            quantity=row.quantity - row.quantity_allocated - row.quantity_picked,
            order_created_at=row.created_at,
            priority=row.order_priority,  # None: the rules' transfer default
            promised_date=row.promised_date,
            kind="transfer",
        )
    return rules.DemandLine(
        line_id=row.id,
        order_id=row.order_id,
        item_id=row.item_id,
        quantity=row.quantity - row.quantity_allocated - row.quantity_picked,
        order_created_at=row.created_at,
        customer_id=row.customer_id,
        priority=effective_priority(row.order_priority, row.customer_priority),
        promised_date=row.promised_date,
        route_cutoff=cutoff_at(row.cutoff_time, row.promised_date or row.requested_date, now_day),
    )


def _customer_rules(rows: Sequence[Any]) -> dict[int, rules.CustomerRules]:
    # One row per customer is enough (transfer lines have none).
    first = {r.customer_id: r for r in reversed(rows) if r.customer_id is not None}
    return {
        customer_id: rules.CustomerRules(
            customer_id=customer_id,
            ship_complete=bool(r.ship_complete),
            # A customer who allows substitutes gets them allocated; the others are offered
            # them (the answer names what could replace the short part).
            substitutes="allocate" if r.allow_substitutes else "offer",
            min_remaining_shelf_life_days=int(r.min_shelf_life_days or 0),
        )
        for customer_id, r in first.items()
    }


def allocate_orders(
    conn: Connection,
    site_id: int,
    order_ids: Sequence[int],
    *,
    transfer_ids: Sequence[int] = (),
    locked: bool = False,
    only_lines: Collection[int] | None = None,
    cross_dock: CrossDockStock | None = None,
) -> AllocationRun:
    """Allocate every outstanding line of ``order_ids`` and of the transfer orders
    ``transfer_ids`` (all shipping from one site) in one rank order: transfers compete for the
    same stock with their own priority (allocation_rules.TRANSFER_DEFAULT_PRIORITY unless set).

    The caller owns the transaction, checks access and writes the audit; ``locked`` says the
    orders are already locked. ``only_lines`` limits the run to those sales-order lines;
    ``cross_dock`` allocates from stock just received at a dock instead of the bins.
    """
    if not order_ids and not transfer_ids:
        return AllocationRun()
    if not locked:
        lock_orders(conn, order_ids)
        lock_transfers(conn, transfer_ids)
    rows: list[Any] = [*_demand(conn, order_ids), *_transfer_demand(conn, transfer_ids)]
    if any(r.site_id != site_id for r in rows):
        raise Conflict("orders of several sites cannot be allocated together", field="site")
    now_day = today()
    open_rows = [
        r
        for r in rows
        if r.status not in CLOSED_STATES
        and r.quantity - r.quantity_allocated - r.quantity_picked > 0
        and (only_lines is None or r.id in only_lines)
    ]
    if not open_rows:
        return AllocationRun(lines=[_unchanged(r) for r in rows])
    items = {r.item_id for r in open_rows}
    if cross_dock is None:
        # Substitutes serve customers only: a run of transfers alone needs none.
        customer_items = {r.item_id for r in open_rows if not isinstance(r, _TransferRow)}
        subs = _substitutes(conn, customer_items) if customer_items else {}
        stock_items = items | {s for group in subs.values() for s in group}
        slots, keys = _lock_stock(conn, site_id, stock_items)
    else:
        subs = {}
        slots, keys = _lock_stock(conn, site_id, items, cross_dock.location_id)
        slots = cross_dock.capped(slots)
    plan = rules.allocate(
        [_demand_line(r, now_day) for r in open_rows],
        slots,
        today=now_day,
        customers=_customer_rules(open_rows),
        substitutes=subs,
    )
    by_line = {r.id: r for r in rows}
    grants = _reserve(conn, plan.allocations, keys, by_line)
    causes = _short_causes(conn, site_id, plan, by_line, now_day)
    got: dict[int, int] = defaultdict(int)
    for g in grants:
        got[g.line_id] += g.quantity
    _write_lines(conn, got, causes)
    offers: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for o in plan.offers:
        offers[o.line_id].append((o.substitute_item_id, o.quantity_available))
    outcomes = {o.line_id: o for o in plan.lines}
    lines = []
    for r in rows:
        outcome = outcomes.get(r.id)
        if outcome is None:
            lines.append(_unchanged(r))
            continue
        allocated = r.quantity_allocated + got[r.id]
        lines.append(
            LineResult(
                line_id=abs(r.id),
                order_id=abs(r.order_id),
                line_no=r.line_no,
                item_id=r.item_id,
                quantity=r.quantity,
                quantity_allocated=allocated,
                quantity_picked=r.quantity_picked,
                quantity_allocated_now=got[r.id],
                quantity_short=r.quantity - allocated - r.quantity_picked,
                short_cause=causes.get(r.id, r.short_cause),
                reasons=outcome.reasons,
                substitutes_offered=tuple(offers.get(r.id, ())),
                document_type=_document_type(r),
            )
        )
    refresh_statuses(conn, sorted({r.order_id for r in rows if r.order_id > 0}))
    return AllocationRun(
        [
            g
            if g.line_id > 0
            else replace(
                g, order_id=-g.order_id, line_id=-g.line_id, document_type="transfer_order"
            )
            for g in grants
        ],
        lines,
    )


def _document_type(r: Any) -> str:
    return "transfer_order" if isinstance(r, _TransferRow) else "sales_order"


def _unchanged(r: Any) -> LineResult:
    return LineResult(
        line_id=abs(r.id),
        order_id=abs(r.order_id),
        line_no=r.line_no,
        item_id=r.item_id,
        quantity=r.quantity,
        quantity_allocated=r.quantity_allocated,
        quantity_picked=r.quantity_picked,
        quantity_allocated_now=0,
        quantity_short=max(0, r.quantity - r.quantity_allocated - r.quantity_picked),
        short_cause=r.short_cause,
        document_type=_document_type(r),
    )


def _reserve(
    conn: Connection,
    planned: Sequence[rules.Allocation],
    keys: dict[int, _Slot],
    by_line: dict[int, Any],
) -> list[Grant]:
    """Raise ``quantity_allocated`` on the keys (guarded) and write one allocation per take."""
    if not planned:
        return []
    per_key: dict[int, int] = defaultdict(int)
    for a in planned:
        per_key[a.key] += a.quantity
    if not balances.increase_allocated(conn, sorted(per_key.items())):
        # Cannot happen while the keys are locked; the CHECK constraint is the last guard.
        raise Conflict("stock changed during allocation; retry", field="lines")
    now = raw.timestamp(conn, utcnow())
    grants = [
        Grant(
            order_id=by_line[a.line_id].order_id,
            line_id=a.line_id,
            item_id=a.item_id,
            balance_id=a.key,
            location_id=keys[a.key].location_id,
            lot_id=keys[a.key].lot_id,
            quantity=a.quantity,
        )
        for a in planned
    ]
    # Thousands of rows per wave, no ids needed back: one statement on the driver.
    raw.insert_rows(
        conn,
        "allocation",
        _ALLOCATION_COLUMNS,
        [
            (
                g.balance_id,
                g.item_id,
                g.location_id,
                g.lot_id,
                "sales_order" if g.line_id > 0 else "transfer_order",
                abs(g.order_id),
                abs(g.line_id),
                g.quantity,
                0,
                0,
                "open",
                now,
            )
            for g in grants
        ],
    )
    return grants


_ALLOCATION_COLUMNS = (
    ("balance_id", "bigint"),
    ("item_id", "bigint"),
    ("location_id", "bigint"),
    ("lot_id", "bigint"),
    ("document_type", "varchar"),
    ("document_id", "bigint"),
    ("document_line_id", "bigint"),
    ("quantity", "bigint"),
    ("quantity_posted", "bigint"),
    ("quantity_released", "bigint"),
    ("state", "varchar"),
    ("created_at", "timestamp"),
)
_LINE_ALLOCATED = raw.Sql(
    "UPDATE sales_order_line SET quantity_allocated = quantity_allocated + ?, "
    "short_cause = COALESCE(CAST(? AS VARCHAR(40)), short_cause) WHERE id = ?"
)
_LINE_ALLOCATED_PG = (
    "UPDATE sales_order_line AS l SET quantity_allocated = l.quantity_allocated + v.q, "
    "short_cause = COALESCE(v.cause, l.short_cause) "
    "FROM unnest(%s::bigint[], %s::varchar[], %s::bigint[]) AS v(q, cause, id) WHERE l.id = v.id"
)
_TRANSFER_LINE_ALLOCATED = raw.Sql(
    _LINE_ALLOCATED.sqlite.replace("sales_order_line", "transfer_order_line")
)
_TRANSFER_LINE_ALLOCATED_PG = _LINE_ALLOCATED_PG.replace("sales_order_line", "transfer_order_line")
_ORDER_STATUS = raw.Sql("UPDATE sales_order SET status = ?, version = version + 1 WHERE id = ?")
_ORDER_STATUS_PG = (
    "UPDATE sales_order AS o SET status = v.status, version = o.version + 1 "
    "FROM unnest(%s::varchar[], %s::bigint[]) AS v(status, id) WHERE o.id = v.id"
)


def _short_causes(
    conn: Connection,
    site_id: int,
    plan: rules.AllocationPlan,
    by_line: dict[int, Any],
    now_day: date,
) -> dict[int, str]:
    short = [o for o in plan.lines if o.quantity_short > 0]
    if not short:
        return {}
    items = {by_line[o.line_id].item_id for o in short}
    facts = _site_facts(conn, site_id, items)
    awaited = _awaited_receipts(conn, site_id, items)
    causes: dict[int, str] = {}
    for o in short:
        row = by_line[o.line_id]
        on_hand, allocatable = facts.get(row.item_id, (0, 0))
        cause = rules.classify_shortfall(
            rules.ShortfallFacts(
                quantity_short=o.quantity_short,
                quantity_on_hand=on_hand,
                quantity_allocatable=allocatable,
                quantity_taken_by_higher_priority=o.quantity_taken_by_higher_priority,
                needed_by=row.promised_date or row.requested_date,
                awaited_receipt_expected=awaited.get(row.item_id),
                today=now_day,
            )
        )
        causes[o.line_id] = cause.code
    return causes


def _write_lines(conn: Connection, got: dict[int, int], causes: dict[int, str]) -> None:
    ids = sorted(set(got) | set(causes))
    sales = [(got.get(i, 0), causes.get(i), i) for i in ids if i > 0]
    if sales:
        bulk.update_rows(conn, _LINE_ALLOCATED, _LINE_ALLOCATED_PG, sales)
    transfers = [(got.get(i, 0), causes.get(i), -i) for i in sorted(ids, reverse=True) if i < 0]
    if transfers:  # in line-id order, as the sales lines
        bulk.update_rows(conn, _TRANSFER_LINE_ALLOCATED, _TRANSFER_LINE_ALLOCATED_PG, transfers)


def order_status(lines: Sequence[tuple[int, int, int, int]]) -> str:
    """What an order's lines ``(quantity, allocated, picked, shipped)`` say it is: ``shipped``
    when every unit has left, ``partially_shipped`` when some have (the rest is a backorder),
    then ``picked``, ``allocated``, ``partially_picked``, ``partially_allocated``, ``open``.

    >>> order_status([(5, 0, 5, 5), (2, 0, 2, 2)]), order_status([(5, 0, 3, 3), (2, 2, 0, 0)])
    ('shipped', 'partially_shipped')
    >>> order_status([(5, 2, 3, 0)]), order_status([(5, 1, 3, 0)]), order_status([(5, 1, 0, 0)])
    ('allocated', 'partially_picked', 'partially_allocated')
    """
    if all(shipped >= quantity for quantity, _, _, shipped in lines):
        return "shipped"
    if any(shipped for _, _, _, shipped in lines):
        return "partially_shipped"
    if all(picked >= quantity for quantity, _, picked, _ in lines):
        return "picked"
    if all(allocated + picked >= quantity for quantity, allocated, picked, _ in lines):
        return "allocated"
    if any(picked for _, _, picked, _ in lines):
        return "partially_picked"
    if any(allocated for _, allocated, _, _ in lines):
        return "partially_allocated"
    return "open"


def refresh_statuses(conn: Connection, order_ids: Sequence[int]) -> dict[int, str]:
    """Set each order's status from its lines as they are now (two statements for any number)."""
    if not order_ids:
        return {}
    lines: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    states: dict[int, str] = {}
    for r in conn.execute(
        sa.select(
            sales_order_line.c.order_id,
            sales_order_line.c.quantity,
            sales_order_line.c.quantity_allocated,
            sales_order_line.c.quantity_picked,
            sales_order_line.c.quantity_shipped,
            sales_order.c.status,
        )
        .join(sales_order, sales_order.c.id == sales_order_line.c.order_id)
        .where(sales_order_line.c.order_id.in_(sorted(set(order_ids))))
    ):
        lines[r.order_id].append((r[1], r[2], r[3], r[4]))
        states[r.order_id] = r.status
    updates: list[dict[str, Any]] = []
    out = {}
    for order_id, ls in lines.items():
        new = order_status(ls)
        out[order_id] = new
        if states[order_id] == "cancelled":
            continue
        updates.append({"order_id": order_id, "new_status": new})
    if updates:
        bulk.update_rows(
            conn,
            _ORDER_STATUS,
            _ORDER_STATUS_PG,
            [
                (u["new_status"], u["order_id"])
                for u in sorted(updates, key=lambda u: u["order_id"])
            ],
        )
    return out


def item_skus(conn: Connection, item_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    return dict(conn.execute(sa.select(item.c.id, item.c.sku).where(item.c.id.in_(ids))).all())
