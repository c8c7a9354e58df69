"""What a planner sets for the planning run beside the policies themselves: known events and
promotions (forecast uplifts), suppliers' order-value terms, and the pilot of a challenger
policy set on one segment. Each write is audited; the database run reads them
(``replenishment.run``): events into the forecast path, order terms into the grouping of
purchase proposals, the active pilot into the segment's service level and rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import item_by_sku
from stockpilot.network.service import site_by_code
from stockpilot.persistence import journal
from stockpilot.persistence.planning_tables import (
    planning_event,
    planning_pilot,
    supplier_order_terms,
)
from stockpilot.persistence.tables import item, site, supplier
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from stockpilot.shared.sql import insert_id, insert_ignore

__all__ = [
    "OrderTerms",
    "Pilot",
    "PlanningEvent",
    "create_event",
    "create_pilot",
    "delete_event",
    "end_pilot",
    "get_pilot",
    "list_events",
    "list_order_terms",
    "list_pilots",
    "set_order_terms",
]


@dataclass(frozen=True)
class PlanningEvent:
    id: int
    name: str
    sku: str | None
    site: str | None
    start_date: date
    end_date: date
    uplift_pct: float
    family: str | None = None


@dataclass(frozen=True)
class OrderTerms:
    supplier: str
    min_order_value: Decimal | None
    free_freight_value: Decimal | None


@dataclass(frozen=True)
class Pilot:
    id: int
    name: str
    scope_field: str
    scope_value: str
    service_level: float | None
    segment_policies: bool
    status: str


def _require_all_sites(actor: Actor, what: str) -> None:
    if not actor.all_sites:
        raise Forbidden(
            f"{what} applies to the whole network; a user bound to sites may not set it"
        )


def create_event(
    conn: Connection,
    actor: Actor,
    *,
    name: str,
    start_date: date,
    end_date: date,
    uplift_pct: float,
    sku: str | None = None,
    site_code: str | None = None,
    family: str | None = None,
) -> PlanningEvent:
    """A known event: every forecast period starting inside ``start_date … end_date`` of the
    item (or every item of ``family``, or every item) at the site (or every site) is multiplied
    by ``1 + uplift_pct/100``."""
    if end_date < start_date:
        raise ValidationFailed("end_date is before start_date", field="end_date")
    if not -100.0 < uplift_pct <= 1000.0:
        raise ValidationFailed("uplift_pct must be above -100 and at most 1000", field="uplift_pct")
    if sku is not None and family is not None:
        raise ValidationFailed("an event names an item or a family, not both", field="family")
    item_id = item_by_sku(conn, sku).id if sku is not None else None
    site_id = None
    if site_code is not None:
        st = site_by_code(conn, site_code)
        if not actor.can_see_site(st.id):
            raise ValidationFailed(f"unknown site {site_code!r}", field="site")
        site_id = st.id
    else:
        _require_all_sites(actor, "an event at every site")
    eid = insert_id(
        conn,
        planning_event.insert().values(
            name=name,
            item_id=item_id,
            site_id=site_id,
            family=family,
            start_date=start_date,
            end_date=end_date,
            uplift_pct=uplift_pct,
            created_at=utcnow(),
            user_id=actor.user_id,
        ),
    )
    journal.record(
        conn,
        actor,
        action="planning_event.created",
        entity_type="planning_event",
        entity_id=eid,
        site_id=site_id,
        detail={
            "name": name,
            "sku": sku,
            "family": family,
            "site": site_code,
            "uplift_pct": uplift_pct,
        },
        topic="planning_event.created",
    )
    return PlanningEvent(eid, name, sku, site_code, start_date, end_date, uplift_pct, family)


def _event_query() -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(planning_event, item.c.sku, site.c.code)
        .outerjoin(item, item.c.id == planning_event.c.item_id)
        .outerjoin(site, site.c.id == planning_event.c.site_id)
        .order_by(planning_event.c.id)
    )


def list_events(
    conn: Connection, actor: Actor, *, after_id: int | None, limit: int
) -> list[PlanningEvent]:
    """Events in id order (a user bound to sites sees those of its sites and the network's)."""
    stmt = _event_query().limit(limit)
    if after_id is not None:
        stmt = stmt.where(planning_event.c.id > after_id)
    if not actor.all_sites:
        stmt = stmt.where(
            sa.or_(
                planning_event.c.site_id.is_(None),
                planning_event.c.site_id.in_(sorted(actor.site_ids)),
            )
        )
    return [
        PlanningEvent(
            r.id, r.name, r.sku, r.code, r.start_date, r.end_date, float(r.uplift_pct), r.family
        )
        for r in conn.execute(stmt).all()
    ]


def delete_event(conn: Connection, actor: Actor, event_id: int) -> None:
    row = conn.execute(
        sa.select(planning_event.c.id, planning_event.c.site_id).where(
            planning_event.c.id == event_id
        )
    ).first()
    if row is None or (row.site_id is not None and not actor.can_see_site(row.site_id)):
        raise NotFound(f"event {event_id} not found", field="event_id")
    if row.site_id is None:
        _require_all_sites(actor, "an event at every site")
    conn.execute(sa.delete(planning_event).where(planning_event.c.id == event_id))
    journal.record(
        conn,
        actor,
        action="planning_event.deleted",
        entity_type="planning_event",
        entity_id=event_id,
        site_id=row.site_id,
        detail={},
        topic="planning_event.deleted",
    )


def set_order_terms(
    conn: Connection,
    actor: Actor,
    supplier_code: str,
    *,
    min_order_value: Decimal | None,
    free_freight_value: Decimal | None,
) -> OrderTerms:
    """Set (or clear, with both null) a supplier's minimum order value and free-freight
    threshold; the next run tops up or holds its purchase groups by them."""
    _require_all_sites(actor, "a supplier's order terms")
    for name, value in (
        ("min_order_value", min_order_value),
        ("free_freight_value", free_freight_value),
    ):
        if value is not None and value < 0:
            raise ValidationFailed(f"{name} must not be negative", field=name)
    supplier_id = conn.execute(
        sa.select(supplier.c.id).where(supplier.c.code == supplier_code)
    ).scalar()
    if supplier_id is None:
        raise NotFound(f"supplier {supplier_code} not found", field="supplier")
    values = {
        "min_order_value": min_order_value,
        "free_freight_value": free_freight_value,
        "updated_at": utcnow(),
        "user_id": actor.user_id,
    }
    insert_ignore(conn, supplier_order_terms, [{"supplier_id": supplier_id, **values}])
    conn.execute(
        sa.update(supplier_order_terms)
        .where(supplier_order_terms.c.supplier_id == supplier_id)
        .values(**values)
    )
    journal.record(
        conn,
        actor,
        action="supplier.order_terms_set",
        entity_type="supplier",
        entity_id=supplier_id,
        detail={
            "min_order_value": None if min_order_value is None else str(min_order_value),
            "free_freight_value": None if free_freight_value is None else str(free_freight_value),
        },
        topic="supplier.order_terms_set",
    )
    return OrderTerms(supplier_code, min_order_value, free_freight_value)


def list_order_terms(conn: Connection) -> list[OrderTerms]:
    rows = conn.execute(
        sa.select(
            supplier.c.code,
            supplier_order_terms.c.min_order_value,
            supplier_order_terms.c.free_freight_value,
        )
        .join(supplier, supplier.c.id == supplier_order_terms.c.supplier_id)
        .order_by(supplier.c.code)
    ).all()
    return [OrderTerms(r.code, r.min_order_value, r.free_freight_value) for r in rows]


def create_pilot(
    conn: Connection,
    actor: Actor,
    *,
    name: str,
    scope_field: str,
    scope_value: str,
    service_level: float | None,
    segment_policies: bool,
) -> Pilot:
    """Start a pilot: from the next run, the segment ``scope_field = scope_value`` is planned
    with the challenger's service level (and the default segment rules when
    ``segment_policies``). One pilot is active at a time: end it before starting another."""
    _require_all_sites(actor, "a pilot")
    if scope_field not in ("demand_class", "abc", "family"):
        raise ValidationFailed(
            "scope_field must be demand_class, abc or family", field="scope_field"
        )
    if service_level is None and not segment_policies:
        raise ValidationFailed(
            "a pilot changes something: give service_level or segment_policies",
            field="service_level",
        )
    if service_level is not None and not 0.5 < service_level < 1.0:
        raise ValidationFailed("service_level must be between 0.5 and 1", field="service_level")
    active = conn.execute(
        sa.select(planning_pilot.c.id).where(planning_pilot.c.status == "active").with_for_update()
    ).scalar()
    if active is not None:
        raise Conflict(f"pilot {active} is active: end it first", field="status")
    pid = insert_id(
        conn,
        planning_pilot.insert().values(
            name=name,
            scope_field=scope_field,
            scope_value=scope_value,
            service_level=service_level,
            segment_policies=segment_policies,
            status="active",
            created_at=utcnow(),
            user_id=actor.user_id,
        ),
    )
    journal.record(
        conn,
        actor,
        action="pilot.started",
        entity_type="planning_pilot",
        entity_id=pid,
        detail={"scope": f"{scope_field}={scope_value}", "service_level": service_level},
        topic="pilot.started",
    )
    return Pilot(pid, name, scope_field, scope_value, service_level, segment_policies, "active")


def _pilot(row: sa.Row[tuple[object, ...]]) -> Pilot:
    r = row._mapping
    return Pilot(
        int(r["id"]),
        str(r["name"]),
        str(r["scope_field"]),
        str(r["scope_value"]),
        None if r["service_level"] is None else float(r["service_level"]),
        bool(r["segment_policies"]),
        str(r["status"]),
    )


def get_pilot(conn: Connection, pilot_id: int) -> Pilot:
    row = conn.execute(sa.select(planning_pilot).where(planning_pilot.c.id == pilot_id)).first()
    if row is None:
        raise NotFound(f"pilot {pilot_id} not found", field="pilot_id")
    return _pilot(row)


def list_pilots(conn: Connection, *, after_id: int | None, limit: int) -> list[Pilot]:
    stmt = sa.select(planning_pilot).order_by(planning_pilot.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(planning_pilot.c.id > after_id)
    return [_pilot(r) for r in conn.execute(stmt).all()]


def end_pilot(conn: Connection, actor: Actor, pilot_id: int) -> Pilot:
    """End a pilot (rolled out as the new default by the planner, or dropped): the next run
    plans its segment like the rest again."""
    _require_all_sites(actor, "a pilot")
    done = conn.execute(
        sa.update(planning_pilot)
        .where(planning_pilot.c.id == pilot_id, planning_pilot.c.status == "active")
        .values(status="ended")
    ).rowcount
    if not done:
        get_pilot(conn, pilot_id)  # 404 when unknown
        raise Conflict(f"pilot {pilot_id} has ended", field="status")
    journal.record(
        conn,
        actor,
        action="pilot.ended",
        entity_type="planning_pilot",
        entity_id=pilot_id,
        detail={},
        topic="pilot.ended",
    )
    return get_pilot(conn, pilot_id)
