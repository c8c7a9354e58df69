"""Kit bills of material and kit availability.

A kit's availability at a site is what allocation could take of it there — its own allocatable
stock in storage, pick and bulk bins (``outbound.allocation.STORABLE_KINDS``), less what is
allocated — plus how many more its components would make (``rules.buildable`` over the
components' availability, counted the same way).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import item_by_sku, items_by_sku
from stockpilot.kitting import rules
from stockpilot.kitting.schemas import KitCreate
from stockpilot.network.service import site_in_scope
from stockpilot.outbound.allocation import STORABLE_KINDS
from stockpilot.persistence import journal
from stockpilot.persistence.kitting_tables import kit, kit_component
from stockpilot.persistence.tables import balance, item, location, stock_status
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc


def create_kit(conn: Connection, actor: Actor, cmd: KitCreate) -> dict[str, Any]:
    """Declare the bill of material of an existing item (once per item)."""
    kit_item = item_by_sku(conn, cmd.sku)
    if kit_item.lot_tracked or kit_item.serial_tracked:
        raise ValidationFailed("a kit item may not be lot- or serial-tracked", field="sku")
    found = items_by_sku(conn, {c.sku for c in cmd.components})
    seen: set[str] = set()
    for i, component in enumerate(cmd.components):
        ref = found.get(component.sku)
        if ref is None:
            raise ValidationFailed(f"unknown item {component.sku!r}", field=f"components[{i}].sku")
        if ref.id == kit_item.id:
            raise ValidationFailed("a kit is not its own component", field=f"components[{i}].sku")
        if ref.serial_tracked:
            raise ValidationFailed(
                "serial-tracked components are not supported", field=f"components[{i}].sku"
            )
        if component.sku in seen:
            raise ValidationFailed(f"{component.sku} is listed twice", field=f"components[{i}].sku")
        seen.add(component.sku)
    if conn.execute(sa.select(kit.c.id).where(kit.c.item_id == kit_item.id)).first():
        raise Conflict(f"{cmd.sku} already has a bill of material", field="sku")
    kit_id = conn.execute(
        kit.insert()
        .values(
            item_id=kit_item.id,
            description=cmd.description,
            created_at=utcnow(),
            created_by=actor.user_id,
        )
        .returning(kit.c.id)
    ).scalar_one()
    conn.execute(
        kit_component.insert(),
        [
            {
                "kit_id": kit_id,
                "line_no": i,
                "item_id": found[c.sku].id,
                "quantity": c.quantity,
            }
            for i, c in enumerate(cmd.components)
        ],
    )
    journal.record(
        conn,
        actor,
        action="kit.created",
        entity_type="kit",
        entity_id=kit_id,
        detail={"sku": cmd.sku, "components": len(cmd.components)},
        topic="kit.created",
    )
    return get_kit(conn, cmd.sku)


def kit_of(
    conn: Connection, sku: str, *, field: str = "kit"
) -> tuple[int, int, list[rules.Component]]:
    """``(kit id, kit item id, components)`` of the kit ``sku`` (404 when it has none)."""
    row = conn.execute(
        sa.select(kit.c.id, kit.c.item_id)
        .join(item, item.c.id == kit.c.item_id)
        .where(item.c.sku == sku, kit.c.active.is_(True))
    ).first()
    if row is None:
        raise NotFound(f"no kit {sku!r}", field=field)
    components = [
        rules.Component(int(r.item_id), int(r.quantity))
        for r in conn.execute(
            sa.select(kit_component.c.item_id, kit_component.c.quantity)
            .where(kit_component.c.kit_id == row.id)
            .order_by(kit_component.c.line_no)
        )
    ]
    return int(row.id), int(row.item_id), components


def _render(conn: Connection, rows: Iterable[Any]) -> list[dict[str, Any]]:
    kits = list(rows)
    if not kits:
        return []
    parts = conn.execute(
        sa.select(kit_component.c.kit_id, item.c.sku, kit_component.c.quantity)
        .join(item, item.c.id == kit_component.c.item_id)
        .where(kit_component.c.kit_id.in_([k.id for k in kits]))
        .order_by(kit_component.c.kit_id, kit_component.c.line_no)
    ).all()
    by_kit: dict[int, list[dict[str, Any]]] = {}
    for p in parts:
        by_kit.setdefault(int(p.kit_id), []).append({"sku": p.sku, "quantity": int(p.quantity)})
    return [
        {
            "id": int(k.id),
            "sku": k.sku,
            "description": k.description,
            "created_at": iso_utc(k.created_at),
            "components": by_kit.get(int(k.id), []),
        }
        for k in kits
    ]


def _kits() -> sa.Select[Any]:
    return (
        sa.select(kit.c.id, item.c.sku, kit.c.description, kit.c.created_at)
        .join(item, item.c.id == kit.c.item_id)
        .where(kit.c.active.is_(True))
    )


def get_kit(conn: Connection, sku: str) -> dict[str, Any]:
    found = _render(conn, conn.execute(_kits().where(item.c.sku == sku)))
    if not found:
        raise NotFound(f"no kit {sku!r}", field="sku")
    return found[0]


def list_kits(conn: Connection, after_id: int | None, fetch: int) -> list[dict[str, Any]]:
    query = _kits()
    if after_id is not None:
        query = query.where(kit.c.id > after_id)
    return _render(conn, conn.execute(query.order_by(kit.c.id).limit(fetch)))


def available_at_site(conn: Connection, site_id: int, item_ids: Iterable[int]) -> dict[int, int]:
    """Allocatable on hand less allocated, per item, over the site's storable bins."""
    ids = sorted(set(item_ids))
    rows = conn.execute(
        sa.select(
            balance.c.item_id,
            sa.func.sum(balance.c.quantity_on_hand - balance.c.quantity_allocated),
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .where(
            location.c.site_id == site_id,
            location.c.kind.in_(STORABLE_KINDS),
            stock_status.c.allocatable.is_(True),
            balance.c.item_id.in_(ids),
        )
        .group_by(balance.c.item_id)
    ).all()
    return {int(r[0]): int(r[1] or 0) for r in rows}


def kit_availability(conn: Connection, actor: Actor, sku: str, site_code: str) -> dict[str, Any]:
    """The kit's own available stock at the site, and how many more its components make."""
    st = site_in_scope(conn, actor, site_code)
    _, kit_item_id, components = kit_of(conn, sku, field="sku")
    available = available_at_site(conn, st.id, [kit_item_id, *(c.item_id for c in components)])
    skus = dict(
        conn.execute(
            sa.select(item.c.id, item.c.sku).where(item.c.id.in_([c.item_id for c in components]))
        ).all()
    )
    built = available.get(kit_item_id, 0)
    buildable = rules.buildable(components, available)
    return {
        "sku": sku,
        "site": st.code,
        "quantity_available": built,
        "quantity_buildable": buildable,
        "quantity_total": built + buildable,
        "components": [
            {
                "sku": skus[c.item_id],
                "quantity_per_kit": c.quantity,
                "quantity_available": available.get(c.item_id, 0),
                "kits": rules.buildable([c], available),
            }
            for c in components
        ],
    }
