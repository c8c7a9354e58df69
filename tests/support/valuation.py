"""Helpers of the valuation tests: set an item's cost method, receive at a cost, ship to the
site's customer location, transfer, and read value and COGS back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger import operations
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import in_transit_location, site_by_code, virtual_location
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item, location
from stockpilot.shared.actor import SYSTEM
from stockpilot.valuation import reports


def set_method(db: Database, sku: str, method: str, standard: str | None = None) -> None:
    def work(conn: Connection) -> None:
        conn.execute(
            item.update()
            .where(item.c.sku == sku)
            .values(
                cost_method=method,
                standard_cost=None if standard is None else Decimal(standard),
            )
        )

    db.run(work)


def receive_at(
    db: Database,
    sku: str,
    quantity: int,
    cost: str | None,
    bin_code: str = "A-01",
    site: str = "WH1",
    *,
    lot: str | None = None,
    effective_at: datetime | None = None,
) -> None:
    db.run(
        lambda conn: operations.receive(
            conn,
            SYSTEM,
            site,
            [
                operations.StockLine(
                    sku,
                    quantity,
                    bin_code,
                    lot=lot,
                    unit_cost=None if cost is None else Decimal(cost),
                )
            ],
            effective_at=effective_at,
        )
    )


def _ids(conn: Connection, sku: str, site: str, bin_code: str) -> tuple[int, int, int, int]:
    st = site_by_code(conn, site)
    item_id = conn.execute(sa.select(item.c.id).where(item.c.sku == sku)).scalar_one()
    bin_id = conn.execute(
        sa.select(location.c.id).where(location.c.site_id == st.id, location.c.code == bin_code)
    ).scalar_one()
    return st.id, st.company_id, int(item_id), int(bin_id)


def lot_id(conn: Connection, sku: str, lot_code: str) -> int:
    from stockpilot.persistence.tables import lot

    return int(
        conn.execute(
            sa.select(lot.c.id)
            .join(item, item.c.id == lot.c.item_id)
            .where(item.c.sku == sku, lot.c.lot_code == lot_code)
        ).scalar_one()
    )


def move_out(
    db: Database,
    sku: str,
    quantity: int,
    to_kind: str = "customer",
    bin_code: str = "A-01",
    site: str = "WH1",
    *,
    lot: str | None = None,
    reverse: bool = False,
    effective_at: datetime | None = None,
) -> None:
    """Ship ``quantity`` to the site's ``to_kind`` virtual location (``reverse``: from it)."""

    def work(conn: Connection) -> None:
        site_id, company_id, item_id, bin_id = _ids(conn, sku, site, bin_code)
        other = virtual_location(conn, site_id, to_kind)
        lot_ref = 0 if lot is None else lot_id(conn, sku, lot)
        source, target = (other, bin_id) if reverse else (bin_id, other)
        post_moves(
            conn,
            [MoveLine(item_id, source, target, quantity, company_id, lot_ref)],
            PostingContext("test", effective_at=effective_at),
        )

    db.run(work)


def transfer(
    db: Database,
    sku: str,
    quantity: int,
    from_site: str = "WH1",
    to_site: str = "WH2",
    *,
    leg: str = "both",
) -> None:
    """Ship ``quantity`` from one site's A-01 into in-transit (``leg`` "out"), receive it at
    the other's A-01 ("in"), or both."""

    def work(conn: Connection) -> None:
        a_id, company_id, item_id, a_bin = _ids(conn, sku, from_site, "A-01")
        b_id, _, _, b_bin = _ids(conn, sku, to_site, "A-01")
        transit = in_transit_location(conn, a_id, b_id)
        if leg in ("out", "both"):
            post_moves(
                conn,
                [MoveLine(item_id, a_bin, transit, quantity, company_id)],
                PostingContext("transfer"),
            )
        if leg in ("in", "both"):
            post_moves(
                conn,
                [MoveLine(item_id, transit, b_bin, quantity, company_id)],
                PostingContext("transfer"),
            )

    db.run(work)


def value(db: Database, sku: str, site: str = "WH1", at: date | None = None) -> dict[str, Any]:
    with db.read() as conn:
        st = site_by_code(conn, site)
        item_id = reports.item_id_of(conn, sku)
        return reports.inventory_value(conn, reports.Filters([st.id], item_id), at)


def cogs(db: Database, sku: str, site: str = "WH1") -> Decimal:
    with db.read() as conn:
        st = site_by_code(conn, site)
        item_id = reports.item_id_of(conn, sku)
        body = reports.cost_of_goods_sold(conn, reports.Filters([st.id], item_id), None, None)
        return Decimal(body["cogs"])
