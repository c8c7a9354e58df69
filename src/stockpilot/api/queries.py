"""Read functions for lists and records that have no read service of their own yet.

Each list is one keyset page (``id > :after ORDER BY id LIMIT :n``) plus at most one query
for the page's children, so a page costs the same number of queries whatever its size. Site
scope is applied in SQL: a user bound to sites never receives a row of another site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger.moves import moves_view
from stockpilot.ledger.verify import VerifyReport
from stockpilot.network.service import site_in_scope
from stockpilot.persistence.tables import (
    allocation,
    app_user,
    audit_log,
    company,
    customer,
    item,
    item_uom,
    location,
    lot,
    move,
    sales_order_line,
    site,
    supplier,
    user_site,
    zone,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc


def site_scope(actor: Actor) -> list[int] | None:
    """The site ids ``actor`` may see, or ``None`` for every site."""
    return None if actor.all_sites else sorted(actor.site_ids)


def visible_site_id(conn: Connection, actor: Actor, code: str, *, field: str = "site") -> int:
    """The id of a site ``actor`` can see. A site outside their scope is reported exactly as an
    unknown one, so its existence does not leak."""
    return site_in_scope(conn, actor, code, field=field).id


def _after(stmt: sa.Select[Any], id_col: sa.ColumnElement[int], after_id: int | None) -> Any:
    return stmt if after_id is None else stmt.where(id_col > after_id)


def _in_sites(
    stmt: sa.Select[Any], site_col: sa.ColumnElement[int], actor: Actor, site_id: int | None = None
) -> Any:
    """Only rows of the caller's sites, and of ``site_id`` when one is asked for."""
    scope = site_scope(actor)
    if scope is not None:
        stmt = stmt.where(site_col.in_(scope))
    if site_id is not None:
        stmt = stmt.where(site_col == site_id)
    return stmt


def _iso(value: Any) -> str | None:
    """Dates as ``YYYY-MM-DD``; times (stored as naive UTC) with their offset."""
    if isinstance(value, datetime):
        return iso_utc(value)
    return value.isoformat() if value is not None else None


def _decimal(value: Any) -> str | None:
    return None if value is None else str(value)


# --- items ------------------------------------------------------------------------------------

_ITEM_COLUMNS = (
    item.c.id,
    item.c.sku,
    item.c.description,
    item.c.base_uom,
    item.c.lot_tracked,
    item.c.serial_tracked,
    item.c.shelf_life_days,
    item.c.hazard_class,
    item.c.temperature_class,
    item.c.length_mm,
    item.c.width_mm,
    item.c.height_mm,
    item.c.weight_g,
    item.c.pack_size,
    item.c.moq,
    item.c.unit_cost,
    supplier.c.code.label("supplier"),
    item.c.criticality,
    item.c.family,
    item.c.cross_dock,
    item.c.active,
    item.c.version,
    item.c.cost_method,
    item.c.standard_cost,
)


def _items_select() -> sa.Select[Any]:
    return sa.select(*_ITEM_COLUMNS).outerjoin(supplier, supplier.c.id == item.c.supplier_id)


def _render_items(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    units: dict[int, list[dict[str, Any]]] = {r.id: [] for r in rows}
    if rows:
        for u in conn.execute(
            sa.select(item_uom)
            .where(item_uom.c.item_id.in_(list(units)))
            .order_by(item_uom.c.item_id, item_uom.c.uom)
        ):
            factor = Fraction(u.factor_numerator, u.factor_denominator)
            units[u.item_id].append({"uom": u.uom, "factor": _fraction_text(factor)})
    out = []
    for r in rows:
        body = dict(r._mapping)
        body["unit_cost"] = _decimal(r.unit_cost)
        body["standard_cost"] = _decimal(r.standard_cost)
        body["units"] = units[r.id]
        out.append(body)
    return out


def _fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(value)


def list_items(
    conn: Connection, *, after_id: int | None, limit: int, active: bool | None = None
) -> list[dict[str, Any]]:
    stmt = _after(_items_select(), item.c.id, after_id).order_by(item.c.id).limit(limit)
    if active is not None:
        stmt = stmt.where(item.c.active.is_(active))
    return _render_items(conn, conn.execute(stmt).all())


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_items(
    conn: Connection, text: str, *, after_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """Items whose SKU starts with ``text``, whose description contains it, or whose
    supplier's code or family is it (case-insensitive), in id order."""
    pattern = _like(text.strip())
    stmt = (
        _after(_items_select(), item.c.id, after_id)
        .where(
            sa.or_(
                item.c.sku.ilike(pattern + "%", escape="\\"),
                item.c.description.ilike("%" + pattern + "%", escape="\\"),
                sa.func.lower(supplier.c.code) == text.strip().lower(),
                sa.func.lower(item.c.family) == text.strip().lower(),
            )
        )
        .order_by(item.c.id)
        .limit(limit)
    )
    return _render_items(conn, conn.execute(stmt).all())


def get_item(conn: Connection, sku: str) -> dict[str, Any]:
    row = conn.execute(_items_select().where(item.c.sku == sku)).first()
    if row is None:
        raise NotFound(f"item {sku!r} not found", field="sku")
    return _render_items(conn, [row])[0]


def item_id_and_version(conn: Connection, sku: str) -> tuple[int, int]:
    row = conn.execute(sa.select(item.c.id, item.c.version).where(item.c.sku == sku)).first()
    if row is None:
        raise NotFound(f"item {sku!r} not found", field="sku")
    return int(row.id), int(row.version)


# --- sites and locations ----------------------------------------------------------------------


def list_sites(
    conn: Connection, actor: Actor, *, after_id: int | None, limit: int
) -> list[dict[str, Any]]:
    parent = site.alias("parent")
    stmt = (
        sa.select(
            site.c.id,
            site.c.code,
            site.c.name,
            site.c.kind,
            company.c.code.label("owner"),
            parent.c.code.label("replenished_from"),
            site.c.version,
        )
        .join(company, company.c.id == site.c.company_id)
        .outerjoin(parent, parent.c.id == site.c.replenished_from_site_id)
        .order_by(site.c.id)
        .limit(limit)
    )
    stmt = _in_sites(_after(stmt, site.c.id, after_id), site.c.id, actor)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def list_companies(conn: Connection, *, after_id: int | None, limit: int) -> list[dict[str, Any]]:
    stmt = sa.select(company).order_by(company.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(_after(stmt, company.c.id, after_id))]


def get_company(conn: Connection, company_id: int) -> dict[str, Any]:
    return dict(conn.execute(sa.select(company).where(company.c.id == company_id)).one()._mapping)


def _zones_select() -> sa.Select[Any]:
    return sa.select(
        zone.c.id,
        site.c.code.label("site"),
        zone.c.code,
        zone.c.name,
        zone.c.temperature_class,
        zone.c.hazard_class,
    ).join(site, site.c.id == zone.c.site_id)


def list_zones(
    conn: Connection, actor: Actor, *, after_id: int | None, limit: int, site_id: int | None = None
) -> list[dict[str, Any]]:
    stmt = _after(_zones_select(), zone.c.id, after_id).order_by(zone.c.id)
    stmt = _in_sites(stmt, zone.c.site_id, actor, site_id)
    return [dict(r._mapping) for r in conn.execute(stmt.limit(limit))]


def get_zone(conn: Connection, zone_id: int) -> dict[str, Any]:
    return dict(conn.execute(_zones_select().where(zone.c.id == zone_id)).one()._mapping)


def _locations_select() -> sa.Select[Any]:
    to_site = site.alias("to_site")
    return (
        sa.select(
            location.c.id,
            site.c.code.label("site"),
            location.c.code,
            location.c.kind.label("type"),
            location.c.is_virtual,
            location.c.capacity,
            location.c.hazard_class,
            location.c.temperature_class,
            location.c.walk_sequence,
            location.c.x,
            location.c.y,
            location.c.max_weight_g,
            location.c.max_volume_cm3,
            to_site.c.code.label("to_site"),
            location.c.active,
            location.c.version,
        )
        .join(site, site.c.id == location.c.site_id)
        .outerjoin(to_site, to_site.c.id == location.c.to_site_id)
    )


def list_locations(
    conn: Connection,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    site_id: int | None = None,
    include_virtual: bool = False,
) -> list[dict[str, Any]]:
    stmt = _after(_locations_select(), location.c.id, after_id).order_by(location.c.id)
    stmt = _in_sites(stmt, location.c.site_id, actor, site_id)
    if not include_virtual:
        stmt = stmt.where(location.c.is_virtual.is_(False))
    return [dict(r._mapping) for r in conn.execute(stmt.limit(limit))]


def get_location(conn: Connection, location_id: int) -> dict[str, Any]:
    row = conn.execute(_locations_select().where(location.c.id == location_id)).one()
    return dict(row._mapping)


# --- customers and suppliers ------------------------------------------------------------------


def list_customers(conn: Connection, *, after_id: int | None, limit: int) -> list[dict[str, Any]]:
    stmt = sa.select(customer).order_by(customer.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(_after(stmt, customer.c.id, after_id))]


def list_suppliers(conn: Connection, *, after_id: int | None, limit: int) -> list[dict[str, Any]]:
    stmt = sa.select(supplier).order_by(supplier.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(_after(stmt, supplier.c.id, after_id))]


def get_customer(conn: Connection, customer_id: int) -> dict[str, Any]:
    row = conn.execute(sa.select(customer).where(customer.c.id == customer_id)).one()
    return dict(row._mapping)


def get_supplier(conn: Connection, supplier_id: int) -> dict[str, Any]:
    row = conn.execute(sa.select(supplier).where(supplier.c.id == supplier_id)).one()
    return dict(row._mapping)


# --- moves ------------------------------------------------------------------------------------


def list_moves(
    conn: Connection,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    item_id: int | None = None,
    site_id: int | None = None,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Ledger moves in id order (``newest_first``: the latest first, ``after_id`` then meaning
    older than it); a move is in a site when either of its ends is."""
    view = moves_view()
    scope = site_scope(actor)
    if scope is not None:
        view = view.in_sites(scope)
    if site_id is not None:
        view = view.in_sites([site_id])
    if newest_first:
        stmt = view.stmt.order_by(None).order_by(move.c.id.desc()).limit(limit)
        if after_id is not None:
            stmt = stmt.where(move.c.id < after_id)
    else:
        stmt = _after(view.stmt.limit(limit), move.c.id, after_id)
    if item_id is not None:
        stmt = stmt.where(move.c.item_id == item_id)
    out = []
    for r in conn.execute(stmt):
        body = dict(r._mapping)
        body["unit_cost"] = _decimal(r.unit_cost)
        body["effective_at"] = _iso(r.effective_at)
        body["recorded_at"] = _iso(r.recorded_at)
        out.append(body)
    return out


def item_id_by_sku(conn: Connection, sku: str, *, field: str = "sku") -> int:
    found = conn.execute(sa.select(item.c.id).where(item.c.sku == sku)).scalar()
    if found is None:
        raise ValidationFailed(f"unknown sku {sku!r}", field=field)
    return int(found)


# --- governance -------------------------------------------------------------------------------


def list_audit(
    conn: Connection,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    filters: dict[str, Any],
) -> list[dict[str, Any]]:
    """Audit rows. A user bound to sites sees only rows recorded against their sites."""
    stmt = (
        sa.select(
            audit_log.c.id,
            audit_log.c.at,
            audit_log.c.user_id,
            app_user.c.name.label("user"),
            audit_log.c.action,
            audit_log.c.entity_type,
            audit_log.c.entity_id,
            site.c.code.label("site"),
            audit_log.c.reason,
            audit_log.c.origin,
            audit_log.c.detail,
        )
        .outerjoin(app_user, app_user.c.id == audit_log.c.user_id)
        .outerjoin(site, site.c.id == audit_log.c.site_id)
        .order_by(audit_log.c.id)
        .limit(limit)
    )
    stmt = _in_sites(_after(stmt, audit_log.c.id, after_id), audit_log.c.site_id, actor)
    for name in ("action", "entity_type", "entity_id", "user_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(audit_log.c[name] == filters[name])
    if filters.get("site_id") is not None:
        stmt = stmt.where(audit_log.c.site_id == filters["site_id"])
    if filters.get("since") is not None:
        stmt = stmt.where(audit_log.c.at >= filters["since"])
    return [{**r._mapping, "at": _iso(r.at)} for r in conn.execute(stmt)]


def list_users(
    conn: Connection, actor: Actor, *, after_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """Users in id order. A caller bound to sites sees the users bound to one of their sites,
    each with only those of their sites the caller may see; users with access to every site
    are above such a caller's scope and are not listed."""
    stmt = sa.select(
        app_user.c.id,
        app_user.c.name,
        app_user.c.role,
        app_user.c.all_sites,
        app_user.c.active,
        app_user.c.created_at,
    )
    scope = site_scope(actor)
    if scope is not None:
        bound = sa.select(user_site.c.user_id).where(user_site.c.site_id.in_(scope))
        stmt = stmt.where(app_user.c.all_sites.is_(False), app_user.c.id.in_(bound))
    rows = conn.execute(
        _after(stmt, app_user.c.id, after_id).order_by(app_user.c.id).limit(limit)
    ).all()
    sites: dict[int, list[str]] = {r.id: [] for r in rows}
    if rows:
        site_rows = (
            sa.select(user_site.c.user_id, site.c.code)
            .join(site, site.c.id == user_site.c.site_id)
            .where(user_site.c.user_id.in_(list(sites)))
            .order_by(site.c.code)
        )
        if scope is not None:
            site_rows = site_rows.where(user_site.c.site_id.in_(scope))
        for s in conn.execute(site_rows):
            sites[s.user_id].append(s.code)
    return [{**r._mapping, "created_at": _iso(r.created_at), "sites": sites[r.id]} for r in rows]


# --- stock ------------------------------------------------------------------------------------


def order_allocations(conn: Connection, order_id: int) -> list[dict[str, Any]]:
    """Every allocation of a sales order (the caller has already checked the order is visible)."""
    stmt = (
        sa.select(
            allocation.c.id,
            sales_order_line.c.line_no,
            item.c.sku,
            location.c.code.label("location"),
            lot.c.lot_code.label("lot"),
            allocation.c.quantity,
            allocation.c.quantity_posted,
            allocation.c.quantity_released,
            allocation.c.state,
            allocation.c.created_at,
            allocation.c.closed_at,
        )
        .join(item, item.c.id == allocation.c.item_id)
        .join(location, location.c.id == allocation.c.location_id)
        .outerjoin(lot, lot.c.id == allocation.c.lot_id)
        .outerjoin(sales_order_line, sales_order_line.c.id == allocation.c.document_line_id)
        .where(allocation.c.document_type == "sales_order", allocation.c.document_id == order_id)
        .order_by(allocation.c.id)
    )
    return [
        {
            **r._mapping,
            "quantity_open": r.quantity - r.quantity_posted - r.quantity_released,
            "created_at": _iso(r.created_at),
            "closed_at": _iso(r.closed_at),
        }
        for r in conn.execute(stmt)
    ]


def render_verify(conn: Connection, actor: Actor, report: VerifyReport) -> dict[str, Any]:
    """The verify report; a user bound to sites sees only the drifts at their sites, and its
    ``ok`` speaks of those sites (the counts are of the whole ledger checked)."""
    drifts = report.drifts
    value_drifts = report.value_drifts
    scope = site_scope(actor)
    if scope is not None and drifts:
        visible = set(
            conn.execute(sa.select(location.c.id).where(location.c.site_id.in_(scope))).scalars()
        )
        drifts = [d for d in drifts if d.location_id in visible]
    if scope is not None:
        value_drifts = [d for d in value_drifts if d.site_id in scope]
    return {
        "ok": not drifts and not value_drifts,
        "balances_checked": report.balances_checked,
        "moves_checked": report.moves_checked,
        "drifts": [asdict(d) for d in drifts],
        "value_areas_checked": report.value_areas_checked,
        "value_drifts": [asdict(d) for d in value_drifts],
    }
