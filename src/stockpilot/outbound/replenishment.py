"""Pick-face replenishment: refill forward pick bins from reserve before they run out.

``replenish_faces`` loads each pick face of the site (min/max per bin and item, from
``pick_face``), what it holds, the demand allocated against it and the replenishments already
on their way, and the reserve stock of its item; tasks/replenish.py decides (FEFO, whole
packs, never beyond the reserve) and one ``replenish`` task is created per source bin.

- ``demand`` mode (after an allocation or a wave release): faces that released or allocated
  demand would take below min. Each task is lifted above the picks it feeds (their best
  priority plus a margin), and open replenishments of a face are lifted again when new picks
  need it — so the face is filled before those picks are walked.
- ``top_off`` mode (the warehouse is quiet): every face below min, demand or not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.network.service import site_in_scope
from stockpilot.persistence import journal
from stockpilot.persistence.tables import balance, item, location, lot, stock_status
from stockpilot.persistence.warehouse_tables import pick_face, task
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today
from stockpilot.tasks import replenish as rules
from stockpilot.tasks import service as tasks

__all__ = ["REPLENISH_MARGIN", "replenish_faces", "top_off"]

REPLENISH_MARGIN = 1.0
"""Points a replenishment scores above the best pick it feeds."""
_RESERVE_KINDS = ("storage", "bulk")
_OPEN = tasks.OPEN_STATES


def _faces(conn: Connection, site_id: int, item_ids: Sequence[int] | None) -> list[Any]:
    stmt = (
        sa.select(
            pick_face.c.id,
            pick_face.c.location_id,
            pick_face.c.item_id,
            pick_face.c.min_quantity,
            pick_face.c.max_quantity,
            item.c.pack_size,
            location.c.code,
        )
        .join(location, location.c.id == pick_face.c.location_id)
        .join(item, item.c.id == pick_face.c.item_id)
        .where(location.c.site_id == site_id, location.c.active.is_(True))
        .order_by(pick_face.c.id)
    )
    if item_ids is not None:
        stmt = stmt.where(pick_face.c.item_id.in_(sorted(set(item_ids))))
    return list(conn.execute(stmt))


def _face_stock(conn: Connection, faces: Sequence[Any]) -> dict[tuple[int, int], tuple[int, int]]:
    """(on hand, allocated) in allocatable statuses per (item, face bin)."""
    pairs = sorted({(f.item_id, f.location_id) for f in faces})
    rows = conn.execute(
        sa.select(
            balance.c.item_id,
            balance.c.location_id,
            sa.func.sum(balance.c.quantity_on_hand),
            sa.func.sum(balance.c.quantity_allocated),
        )
        .join(stock_status, stock_status.c.code == balance.c.status)
        .where(
            sa.tuple_(balance.c.item_id, balance.c.location_id).in_(pairs),
            stock_status.c.allocatable.is_(True),
        )
        .group_by(balance.c.item_id, balance.c.location_id)
    )
    return {(int(i), int(loc)): (int(h or 0), int(a or 0)) for i, loc, h, a in rows}


def _open_replenishments(conn: Connection, site_id: int, item_ids: set[int]) -> list[Any]:
    return list(
        conn.execute(
            sa.select(
                task.c.id,
                task.c.item_id,
                task.c.from_location_id,
                task.c.to_location_id,
                task.c.lot_id,
                task.c.quantity,
                task.c.priority,
            ).where(
                task.c.site_id == site_id,
                task.c.type == "replenish",
                task.c.status.in_(_OPEN),
                task.c.item_id.in_(sorted(item_ids)),
            )
        )
    )


def _best_picks(
    conn: Connection, site_id: int, item_ids: set[int]
) -> dict[tuple[int, int], tuple[float, list[int]]]:
    """The best priority of the open picks from each (item, bin), and their ids."""
    out: dict[tuple[int, int], tuple[float, list[int]]] = {}
    for r in conn.execute(
        sa.select(task.c.id, task.c.item_id, task.c.from_location_id, task.c.priority).where(
            task.c.site_id == site_id,
            task.c.type == "pick",
            task.c.status.in_(_OPEN),
            task.c.item_id.in_(sorted(item_ids)),
        )
    ):
        key = (r.item_id, r.from_location_id)
        best, ids = out.get(key, (float("-inf"), []))
        out[key] = (max(best, float(r.priority)), [*ids, r.id])
    return out


def _reserves(
    conn: Connection,
    site_id: int,
    item_ids: set[int],
    earmarked: dict[tuple[int, int, int], int],
    face_bins: set[tuple[int, int]],
) -> tuple[
    dict[int, list[rules.ReserveStock]], dict[tuple[int, int, int], tuple[str, int, int | None]]
]:
    """Reserve stock per item (one entry per bin and lot: its largest allocatable key, less
    what open replenishments already take from it), and each entry's (status, owner, zone)."""
    rows = conn.execute(
        sa.select(
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            balance.c.status,
            balance.c.owner_id,
            (balance.c.quantity_on_hand - balance.c.quantity_allocated).label("available"),
            location.c.code,
            location.c.zone_id,
            lot.c.expiry_date,
            lot.c.created_at,
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .outerjoin(lot, lot.c.id == balance.c.lot_id)
        .where(
            balance.c.item_id.in_(sorted(item_ids)),
            location.c.site_id == site_id,
            location.c.kind.in_(_RESERVE_KINDS),
            stock_status.c.allocatable.is_(True),
            balance.c.quantity_on_hand > balance.c.quantity_allocated,
        )
    ).all()
    best: dict[tuple[int, int, int], Any] = {}
    for r in rows:
        if (r.item_id, r.location_id) in face_bins:
            continue  # a face is never its own reserve
        key = (r.item_id, r.location_id, r.lot_id)
        if key not in best or r.available > best[key].available:
            best[key] = r
    by_item: dict[int, list[rules.ReserveStock]] = defaultdict(list)
    keys: dict[tuple[int, int, int], tuple[str, int, int | None]] = {}
    for key, r in sorted(best.items()):
        available = int(r.available) - earmarked.get(key, 0)
        if available <= 0:
            continue
        by_item[r.item_id].append(
            rules.ReserveStock(
                location_id=r.location_id,
                quantity_available=available,
                lot_id=r.lot_id or None,
                expiry_date=r.expiry_date,
                received_date=r.created_at.date() if r.created_at else None,
                code=r.code,
            )
        )
        keys[key] = (r.status, r.owner_id, r.zone_id)
    return by_item, keys


def replenish_faces(
    conn: Connection,
    actor: Actor,
    site_id: int,
    *,
    item_ids: Sequence[int] | None = None,
    mode: rules.Mode = "demand",
) -> list[int]:
    """Create the replenishment tasks the site's pick faces need now; returns their ids."""
    faces = _faces(conn, site_id, item_ids)
    if not faces:
        return []
    items = {f.item_id for f in faces}
    stock = _face_stock(conn, faces)
    open_tasks = _open_replenishments(conn, site_id, items)
    inbound: dict[tuple[int, int], int] = defaultdict(int)
    earmarked: dict[tuple[int, int, int], int] = defaultdict(int)
    for t in open_tasks:
        inbound[(t.item_id, t.to_location_id)] += t.quantity
        earmarked[(t.item_id, t.from_location_id, t.lot_id)] += t.quantity
    face_bins = {(f.item_id, f.location_id) for f in faces}
    reserves, keys = _reserves(conn, site_id, items, earmarked, face_bins)
    face_rules = []
    by_face = {}
    for f in faces:
        on_hand, demand = stock.get((f.item_id, f.location_id), (0, 0))
        face_rules.append(
            rules.PickFace(
                location_id=f.location_id,
                item_id=f.item_id,
                quantity_min=f.min_quantity,
                quantity_max=f.max_quantity,
                quantity_on_hand=on_hand,
                quantity_demand=demand,
                quantity_inbound=inbound[(f.item_id, f.location_id)],
                pack_quantity=max(1, int(f.pack_size or 1)),
                code=f.code,
            )
        )
        by_face[(f.item_id, f.location_id)] = f
    decisions = rules.plan_replenishments(face_rules, reserves, mode=mode, today=today())
    picks = _best_picks(conn, site_id, items)
    new: list[tasks.NewTask] = []
    for d in decisions:
        face = by_face[(d.face.item_id, d.face.location_id)]
        best, fed = picks.get((d.face.item_id, d.face.location_id), (0.0, []))
        boost = best + REPLENISH_MARGIN if fed else 0.0
        for m in d.moves:
            status, owner, zone_id = keys[(d.face.item_id, m.from_location_id, m.lot_id or 0)]
            new.append(
                tasks.NewTask(
                    type="replenish",
                    site_id=site_id,
                    item_id=d.face.item_id,
                    quantity=m.quantity,
                    from_location_id=m.from_location_id,
                    to_location_id=d.face.location_id,
                    owner_id=owner,
                    lot_id=m.lot_id or 0,
                    stock_status=status,
                    zone_id=zone_id,
                    document_type="pick_face",
                    document_id=face.id,
                    priority_boost=boost,
                    boost_reason=(
                        f"before picks {', '.join(map(str, sorted(fed)[:5]))}" if fed else None
                    ),
                )
            )
    ids = tasks.create_tasks(conn, new)
    _lift(conn, open_tasks, picks)
    if ids:
        journal.record(
            conn,
            actor,
            action=f"task.replenish.{mode}",
            entity_type="site",
            entity_id=site_id,
            site_id=site_id,
            detail={"tasks": len(ids), "faces": len(decisions)},
            topic="task.replenish.created",
        )
    return ids


def _lift(
    conn: Connection,
    open_tasks: Sequence[Any],
    picks: dict[tuple[int, int], tuple[float, list[int]]],
) -> None:
    """Open replenishments stay ahead of the picks of their face, including newer ones."""
    lifts = []
    for t in open_tasks:
        best, fed = picks.get((t.item_id, t.to_location_id), (float("-inf"), []))
        if fed and float(t.priority) <= best:
            lifts.append({"task_id": t.id, "p": best + REPLENISH_MARGIN})
    if lifts:
        conn.execute(
            sa.update(task)
            .where(task.c.id == sa.bindparam("task_id"))
            .values(priority=sa.bindparam("p")),
            lifts,
        )


def top_off(conn: Connection, actor: Actor, site_code: str) -> list[int]:
    """Refill every pick face of the site below min (the warehouse is quiet)."""
    st = site_in_scope(conn, actor, site_code)
    return replenish_faces(conn, actor, st.id, mode="top_off")
