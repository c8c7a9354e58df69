"""Builders for the outbound tests: orders, customer terms, routes, pick faces, waves."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from stockpilot.outbound import routes, sales_orders, waves
from stockpilot.outbound.schemas import RouteCreate, SalesOrderCreate, WaveCreate
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import customer, item, location, site
from stockpilot.persistence.warehouse_tables import item_substitute, pick_face, task
from stockpilot.shared.actor import SYSTEM


def order(
    db: Database, lines: list[tuple[str, int]], customer_code: str = "C1", **fields: Any
) -> int:
    cmd = SalesOrderCreate.model_validate(
        {
            "site": fields.pop("site", "WH1"),
            "customer": customer_code,
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
            **fields,
        }
    )
    return db.run(lambda c: sales_orders.create(c, SYSTEM, cmd, 10_000))


def customer_terms(db: Database, code: str, **values: Any) -> None:
    db.run(lambda c: c.execute(sa.update(customer).where(customer.c.code == code).values(**values)))


def add_route(db: Database, code: str, cutoff: str | None, site_code: str = "WH1") -> int:
    cmd = RouteCreate(site=site_code, code=code, cutoff_time=cutoff)
    return db.run(lambda c: routes.create_route(c, SYSTEM, cmd))


def ids(db: Database, site_code: str = "WH1") -> dict[str, int]:
    with db.read() as conn:
        site_id = conn.execute(sa.select(site.c.id).where(site.c.code == site_code)).scalar_one()
        bins = dict(
            conn.execute(
                sa.select(location.c.code, location.c.id).where(location.c.site_id == site_id)
            ).all()
        )
        items = dict(conn.execute(sa.select(item.c.sku, item.c.id)).all())
    return {"site": site_id, **bins, **items}


def add_pick_face(db: Database, bin_code: str, sku: str, low: int, high: int) -> None:
    w = ids(db)
    db.run(
        lambda c: c.execute(
            pick_face.insert().values(
                location_id=w[bin_code], item_id=w[sku], min_quantity=low, max_quantity=high
            )
        )
    )


def add_substitute(db: Database, sku: str, substitute: str) -> None:
    w = ids(db)
    db.run(
        lambda c: c.execute(
            item_substitute.insert().values(item_id=w[sku], substitute_item_id=w[substitute])
        )
    )


def wave(db: Database, order_ids: list[int], method: str = "discrete", **extra: Any) -> int:
    cmd = WaveCreate.model_validate(
        {"site": "WH1", "sales_orders": order_ids, "method": method, **extra}
    )
    return db.run(lambda c: waves.create_wave(c, SYSTEM, cmd))


def release(db: Database, wave_id: int) -> dict[str, Any]:
    return db.run(lambda c: waves.release_wave(c, SYSTEM, wave_id))


def tasks_of(db: Database, task_type: str, **where: Any) -> list[Any]:
    stmt = sa.select(task).where(task.c.type == task_type).order_by(task.c.id)
    for name, value in where.items():
        stmt = stmt.where(task.c[name] == value)
    with db.read() as conn:
        return list(conn.execute(stmt))
